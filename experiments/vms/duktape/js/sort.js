// sort: Array.prototype.sort with comparators over numbers, strings and records, all from a
// fixed linear congruential generator. scriptArgs[0]: elements (default 40000).
// Self-check: every result ordered, and the multiset of keys kept (checksums).
var n = scriptArgs.length ? parseInt(scriptArgs[0], 10) : 40000;
var seed = 42;
function rand() { seed = (seed * 1103515245 + 12345) % 2147483648; return seed; }
var nums = [], recs = [], strs = [];
var sumBefore = 0;
for (var i = 0; i < n; i++) {
  var r = rand() % 1000000;
  nums.push(r);
  sumBefore += r;
  recs.push({ key: r % 997, id: i, name: 'r' + r });
  strs.push('s' + (r % 50000));
}
nums.sort(function (a, b) { return a - b; });
var sumAfter = 0;
for (var i = 0; i < n; i++) {
  if (i > 0 && nums[i - 1] > nums[i]) throw new Error('numbers out of order at ' + i);
  sumAfter += nums[i];
}
if (sumAfter !== sumBefore) throw new Error('number checksum ' + sumAfter + ' != ' + sumBefore);
recs.sort(function (a, b) { return a.key - b.key || a.id - b.id; });
var idSum = 0;
for (var i = 0; i < n; i++) {
  idSum += recs[i].id;
  if (i > 0) {
    var p = recs[i - 1], q = recs[i];
    if (p.key > q.key || (p.key === q.key && p.id >= q.id)) throw new Error('records out of order at ' + i);
  }
}
if (idSum !== n * (n - 1) / 2) throw new Error('record ids lost');
strs.sort();
for (var i = 1; i < n; i++) if (strs[i - 1] > strs[i]) throw new Error('strings out of order at ' + i);
var rev = nums.slice().reverse();
if (rev[0] !== nums[n - 1]) throw new Error('reverse');
'sort n=' + n + ' min=' + nums[0] + ' max=' + nums[n - 1];
