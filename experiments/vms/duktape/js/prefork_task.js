// prefork task: reads every record of the shared data set and checks the sums; writes nothing
// to the data (only the counts that reading touches, where the VM keeps them).
var sumId = 0, sumPair = 0, sumScore = 0, named = 0;
for (var i = 0; i < data.length; i++) {
  var rec = data[i];
  sumId += rec.id;
  sumPair += rec.pair[0] + rec.pair[1];
  sumScore += rec.score;
}
for (var k in index) if (index[k].name === k) named++;
var n = data.length, expectScore = 0;
for (var i = 0; i < n; i++) expectScore += (i * 37) % 101;
if (sumId !== n * (n - 1) / 2 || sumPair !== 3 * n * (n - 1) / 2 || sumScore !== expectScore)
  throw new Error('prefork task: sums wrong');
if (named !== Math.ceil(n / 10)) throw new Error('prefork task: index has ' + named);
'prefork_task records=' + n;
