// binary-trees (Benchmarks Game): allocation and release of many short-lived trees.
// scriptArgs[0]: maximum depth (default 12). Self-check: node counts follow 2^(d+1)-1.
var maxDepth = Math.max(6, scriptArgs.length ? parseInt(scriptArgs[0], 10) : 12);
function TreeNode(left, right) { this.left = left; this.right = right; }
function bottomUp(depth) {
  return depth > 0 ? new TreeNode(bottomUp(depth - 1), bottomUp(depth - 1)) : new TreeNode(null, null);
}
function check(node) { return node.left === null ? 1 : 1 + check(node.left) + check(node.right); }
var minDepth = 4;
var stretch = check(bottomUp(maxDepth + 1));
if (stretch !== Math.pow(2, maxDepth + 2) - 1) throw new Error('stretch tree check ' + stretch);
var longLived = bottomUp(maxDepth);
var total = 0;
for (var d = minDepth; d <= maxDepth; d += 2) {
  var iterations = 1 << (maxDepth - d + minDepth);
  var sum = 0;
  for (var i = 0; i < iterations; i++) sum += check(bottomUp(d));
  if (sum !== iterations * (Math.pow(2, d + 1) - 1)) throw new Error('depth ' + d + ' check ' + sum);
  total += sum;
}
if (check(longLived) !== Math.pow(2, maxDepth + 1) - 1) throw new Error('long-lived tree check');
'binary_trees depth=' + maxDepth + ' nodes=' + total;
