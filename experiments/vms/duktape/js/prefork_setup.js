// prefork setup: builds the shared data set a forked worker will only read (C5).
// scriptArgs[0]: records (default 200000). Globals left behind: data, index, N.
var N = scriptArgs.length ? parseInt(scriptArgs[0], 10) : 200000;
var data = new Array(N);
var index = {};
for (var i = 0; i < N; i++) {
  var rec = { id: i, name: 'rec' + i, pair: [i, 2 * i], score: (i * 37) % 101 };
  data[i] = rec;
  if (i % 10 === 0) index[rec.name] = rec;
}
'prefork_setup records=' + N;
