// subset.js makes posim-cjk.ttf: the glyphs of the characters in
// chars.txt, from Droid Sans Fallback (see NOTICE).
const fs = require("fs");
const {Font} = require("fonteditor-core");
const chars = fs.readFileSync("chars.txt", "utf8");
const subset = Array.from(chars).map(c => c.codePointAt(0));
const buf = fs.readFileSync("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf");
const font = Font.create(buf, {type: "ttf", subset, hinting: false, compound2simple: false});
fs.writeFileSync("posim-cjk.ttf", font.write({type: "ttf", hinting: false}));
console.log("glyphs", font.get().glyf.length);
