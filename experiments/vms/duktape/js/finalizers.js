// finalizers: when finalizers run, in which order, and what resurrection does, as a transcript
// ("fin-log" lines) that must be the same in every build, with mark bits in the header or in
// side bitmaps (tests/vms compares them), and checks of its own.
// scriptArgs[0]: cycles (default 50).
var N = scriptArgs.length ? parseInt(scriptArgs[0], 10) : 50;
var log = [];
var rescued = [];
var finCount = {};

function make(name, resurrect) {
  var o = { name: name };
  Duktape.fin(o, function (x) {
    log.push('fin ' + x.name);
    finCount[x.name] = (finCount[x.name] || 0) + 1;
    if (resurrect && !x.revived) {
      x.revived = true;
      rescued.push(x);
    }
  });
  return o;
}

// 1. The last reference goes: refcounting runs the finalizer when the count reaches zero (a
// temporary register of the global code may hold the object a little longer).
var a = make('a0');
a = null;
log.push('after a0');

// 2. Cycles: only mark-and-sweep finds them; each finalizer runs once.
var i, x, y;
for (i = 0; i < N; i++) {
  x = make('c' + i);
  y = make('d' + i);
  x.peer = y;
  y.peer = x;
}
x = y = null;
log.push('gc 1');
Duktape.gc();
log.push('gc 2');
Duktape.gc();

// 3. Resurrection: a finalizer stores its object; it stays alive and usable.
var r;
for (i = 0; i < 5; i++) {
  r = make('r' + i, true);
  r.self = r;
}
r = null;
log.push('gc 3');
Duktape.gc();
log.push('gc 4');
Duktape.gc();
log.push('rescued ' + rescued.length);
for (i = 0; i < rescued.length; i++) log.push('alive ' + rescued[i].name + ' ' + rescued[i].revived);

// 4. Dropped again: collected again (Duktape clears FINALIZED on a rescued object it finds
// reachable, so its finalizer may run once more).
rescued = [];
log.push('gc 5');
Duktape.gc();
log.push('gc 6');
Duktape.gc();

// 5. A long-lived object with a finalizer that stays reachable through collections: never run.
var keep = make('keep');
Duktape.gc();
Duktape.gc();
log.push('keep alive ' + keep.name);

for (i = 0; i < log.length; i++) print('fin-log ' + i + ' ' + log[i]);

if (finCount.a0 !== 1) throw new Error('finalizers: a0 finalized ' + finCount.a0 + ' times');
for (i = 0; i < N; i++)
  if (finCount['c' + i] !== 1 || finCount['d' + i] !== 1)
    throw new Error('finalizers: cycle ' + i + ' finalized ' + finCount['c' + i] + '/' + finCount['d' + i]);
for (i = 0; i < 5; i++)
  if (!(finCount['r' + i] >= 1)) throw new Error('finalizers: r' + i + ' never finalized');
if (log.indexOf('rescued 5') < 0) throw new Error('finalizers: resurrection lost objects');
if (finCount.keep) throw new Error('finalizers: a reachable object was finalized');
'finalizers cycles=' + N + ' events=' + log.length;
