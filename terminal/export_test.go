package terminal

// OnSave makes every save of t's state call fn with the state written
// first: tests see each state a crash could leave behind.
func OnSave(t *Terminal, fn func(State)) { t.dir.onSave = fn }
