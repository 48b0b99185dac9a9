// string-build: strings made by concatenation, join, slicing and number formatting; every new
// string is a heap string with its own count (and slot). scriptArgs[0]: lines (default 60000).
// Self-check: lengths computed arithmetically, and every line parsed back.
var n = scriptArgs.length ? parseInt(scriptArgs[0], 10) : 60000;
function digits(x) { return String(x).length; }
var parts = [];
var expectLen = 0;
for (var i = 0; i < n; i++) {
  var s = 'item-' + i + ':' + (i * 7) % 1000 + ';';
  expectLen += 5 + digits(i) + 1 + digits((i * 7) % 1000) + 1;
  parts.push(s);
}
var all = parts.join('');
if (all.length !== expectLen) throw new Error('joined length ' + all.length + ' != ' + expectLen);
var acc = '';
var chunks = 0;
for (var i = 0; i < n; i++) {
  acc += String.fromCharCode(97 + (i % 26));
  if (acc.length === 64) { chunks++; acc = acc.slice(32); }
}
if (chunks !== (n >= 64 ? 1 + Math.floor((n - 64) / 32) : 0)) throw new Error('chunk count ' + chunks);
var lines = all.split(';');
if (lines.length !== n + 1 || lines[n] !== '') throw new Error('split count ' + lines.length);
var sum = 0;
for (var i = 0; i < n; i++) {
  var kv = lines[i].split(':');
  if (kv[0] !== 'item-' + i) throw new Error('line ' + i + ' key ' + kv[0]);
  sum += parseInt(kv[1], 10);
}
var expectSum = 0;
for (var i = 0; i < n; i++) expectSum += (i * 7) % 1000;
if (sum !== expectSum) throw new Error('value sum ' + sum + ' != ' + expectSum);
var up = all.slice(0, 200).toUpperCase().replace(/ITEM-/g, '#');
if (up.indexOf('#0:0;') !== 0) throw new Error('replace ' + up.slice(0, 20));
'string_build lines=' + n + ' length=' + all.length;
