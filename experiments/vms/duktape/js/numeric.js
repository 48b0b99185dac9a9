// numeric: a kernel with few allocations: spectral norm (n = 100, the Benchmarks Game value
// 1.274219991) and a sieve of Eratosthenes (sum of primes below 100000 = 454396537).
// scriptArgs[0]: repetitions (default 6).
var reps = scriptArgs.length ? parseInt(scriptArgs[0], 10) : 6;
function A(i, j) { return 1 / ((i + j) * (i + j + 1) / 2 + i + 1); }
function Au(u, v, n) {
  for (var i = 0; i < n; i++) { var t = 0; for (var j = 0; j < n; j++) t += A(i, j) * u[j]; v[i] = t; }
}
function Atu(u, v, n) {
  for (var i = 0; i < n; i++) { var t = 0; for (var j = 0; j < n; j++) t += A(j, i) * u[j]; v[i] = t; }
}
function AtAu(u, v, w, n) { Au(u, w, n); Atu(w, v, n); }
function spectralNorm(n) {
  var u = [], v = [], w = [], vv = 0, vBv = 0, i;
  for (i = 0; i < n; i++) { u[i] = 1; v[i] = 0; w[i] = 0; }
  for (i = 0; i < 10; i++) { AtAu(u, v, w, n); AtAu(v, u, w, n); }
  for (i = 0; i < n; i++) { vBv += u[i] * v[i]; vv += v[i] * v[i]; }
  return Math.sqrt(vBv / vv);
}
function primeSum(limit) {
  var sieve = [], sum = 0, i, j;
  for (i = 0; i < limit; i++) sieve[i] = true;
  for (i = 2; i < limit; i++) {
    if (!sieve[i]) continue;
    sum += i;
    for (j = i * i; j < limit; j += i) sieve[j] = false;
  }
  return sum;
}
var norm = 0;
for (var r = 0; r < reps; r++) {
  norm = spectralNorm(100);
  if (norm.toFixed(9) !== '1.274219991') throw new Error('spectral norm ' + norm.toFixed(9));
}
var ps = primeSum(100000);
if (ps !== 454396537) throw new Error('prime sum ' + ps);
'numeric reps=' + reps + ' norm=' + norm.toFixed(9);
