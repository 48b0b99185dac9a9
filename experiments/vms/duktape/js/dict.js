// dict: objects used as dictionaries: string keys inserted, updated, looked up, enumerated and
// deleted. scriptArgs[0]: operations (default 200000).
// Self-check: every count matches the arithmetic expectation, deletions leave the right keys.
var n = scriptArgs.length ? parseInt(scriptArgs[0], 10) : 200000;
var m = 5003;
var d = {};
for (var i = 0; i < n; i++) {
  var k = 'k' + (i % m);
  d[k] = (d[k] || 0) + 1;
}
var keys = Object.keys(d);
if (keys.length !== Math.min(n, m)) throw new Error('key count ' + keys.length);
for (var j = 0; j < Math.min(n, m); j++) {
  var expect = Math.floor((n - j - 1) / m) + 1;
  if (d['k' + j] !== expect) throw new Error('count of k' + j + ' = ' + d['k' + j] + ' != ' + expect);
}
// nested dictionaries: group by a derived key
var groups = {};
for (var i = 0; i < n; i += 3) {
  var g = 'g' + (i % 101), h = 'h' + (i % 7);
  var sub = groups[g] || (groups[g] = {});
  sub[h] = (sub[h] || 0) + i;
}
var total = 0, expectTotal = 0;
for (var g in groups) for (var h in groups[g]) total += groups[g][h];
for (var i = 0; i < n; i += 3) expectTotal += i;
if (total !== expectTotal) throw new Error('group total ' + total + ' != ' + expectTotal);
// delete every even key, then check membership
for (var j = 0; j < Math.min(n, m); j += 2) delete d['k' + j];
var left = 0;
for (var k in d) {
  if (parseInt(k.slice(1), 10) % 2 === 0) throw new Error('deleted key still present: ' + k);
  left++;
}
if (left !== Math.floor(Math.min(n, m) / 2)) throw new Error('left ' + left);
if ('k0' in d || !('k1' in d)) throw new Error('membership');
'dict ops=' + n + ' keys_left=' + left;
