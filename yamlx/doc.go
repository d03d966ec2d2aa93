// Package yamlx reads YAML documents strictly and says where they are
// wrong: an unknown key or a wrong type is an error naming its line
// (LineError, FileError), and durations may be written in whole days
// ("3d"). Scenario files, fault rules and card books are read with it.
package yamlx
