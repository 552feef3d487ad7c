"""Jitted multilayer perceptron on one flat parameter vector: init, forward, loss, backprop.

Layout of θ: for each layer ``l`` the weights ``W_l`` (``n_in × n_out``, row-major) then the bias
``b_l`` (``n_out``), layers end to end — so the optimizer kernels see one float64 vector, exactly
as on a surface. Hidden activations, the output/loss pair and the initialisation arrive as
integer codes (``problems/networks.py``) and are dispatched by index inside these functions, so
the whole network family compiles once.

Activations live in one preallocated flat buffer (layer ``l`` of a batch of ``rows`` rows is the
``rows × n_l`` block at offset ``rows · Σ_{k<l} n_k``), and backprop ping-pongs between two halves
of a second buffer: a training step allocates nothing.

Matrix products: ``np.dot(a, b, out)`` (BLAS through scipy), chosen by measurement. A training
step (forward + backward, no optimizer) on this machine (AMD EPYC, 2 cores, AVX-512), numba
0.68.1, scipy-openblas 0.3.30:

    net, batch                      explicit loops (axpy form)   np.dot / BLAS
    2-16-16-2, batch 32             6.4 µs   (157k steps/s)      4.8 µs  (207k steps/s)
    784-100-100-100-100-10, 128     3414 µs  (293 steps/s)       688 µs  (1453 steps/s)

BLAS wins on both, by 5× on the large net. The loops compiled in 1.1 s, np.dot in 0.7 s (the
feared ~5 s did not appear with scipy installed). BLAS results were bit-identical with
OPENBLAS_NUM_THREADS=1 and 2 (its gemm never splits a dot product across threads), so runs stay
reproducible whatever the thread count; tests/test_networks.py checks it.

Compile budget, measured on this shared 2-core machine (load average 1–2) with an empty cache:
``optbench run --problem spirals -o adam --epochs 5`` took 38 s (32 s of it compiling) and now
21–23 s (15 s compiling); ``run --problem xor --model perceptron`` 33.5 s and now 20 s. What
went: numba's slice assignment (``path[r, row, :] = theta``) compiles a formatted shape-mismatch
error, 4.4 s (loops now); the layer gradient norms were compiled into every run, 3 s (now
``path_gradient_norms``, run after training and compiled only with --grad-norms); the landscape's
``prange``, 4 s (rows on threads calling ``evaluate``). And numba links each jitted callee's IR
into its caller and optimises and code-generates it again there, at every level of the call
tree: ``loss_and_grad`` and ``evaluate`` therefore reach the engine as first-class functions
(each compiled once), ``predict`` and the landscape drive the compiled ``forward``/``evaluate``
from Python, and one-call helpers are inlined (about 5 s together). What remains: ``loss_and_grad``
with its callees ~6 s, the training loop ~6 s, ``evaluate`` ~1.2 s, the optimizer kernel ~0.7 s,
``output_link`` ~0.7 s (boundary figures only). The cache loads in ~0.5 s.

A step of the large net (Adam) is mostly BLAS (~1.5 ms of ~2.4 ms) and the optimizer kernel
(~0.25 ms). The element-wise work around them is written to vectorise, with every result
bit-identical: the bias gradients are summed row by row into their slots (each column still in
row order: 3 µs a layer against 9 µs striding down the columns), the divergence check is an or
without early exit (21 µs against 149 µs), evaluation scores views of the data's rows instead of
copying each chunk. ``optbench bench --suite perf --only mlp`` reports the large net's share of
the machine's float64 matmul peak: 36 % median (29–41 %, 5 repeats, peak 66 GFLOP/s) against
38 % (31–42 %) before these changes — within the noise of a shared machine; the timed blocks also
include two whole-data evaluations (~22 % more matrix flops than the steps', not counted).
On the small net, libm's tanh was half a training step (1,024 calls, 7.5 µs of 15.8 µs);
``fast_tanh`` below vectorises and takes the step to 7.6 µs (131k steps/s, 30× PyTorch).
"""

from __future__ import annotations

import math

import numpy as np

from optbench._jit import jit
from optbench.problems.networks import PERCEPTRON_LOSS
from optbench.rng import normal, uniform
from optbench.threads import in_threads

SIGMOID, TANH, RELU, LEAKY_RELU = 0, 1, 2, 3
CROSS_ENTROPY, BCE, MSE = 0, 1, 2
PERCEPTRON = PERCEPTRON_LOSS
XAVIER, HE, NORMAL = 0, 1, 2
LEAKY_SLOPE = 0.01
NORMAL_INIT_STD = 0.1
EVAL_CHUNK = 256  # rows per forward pass when scoring a whole data set


@jit
def param_count(sizes):
    """Length of θ for layer sizes ``[n_in, h1, ..., n_out]``."""
    n = 0
    for layer in range(sizes.size - 1):
        n += sizes[layer] * sizes[layer + 1] + sizes[layer + 1]
    return n


@jit(inline="always")  # tiny: a function of its own cost 0.15 s to compile
def activation_width(sizes):
    """Σ of the layer widths after the input: columns of the activation buffer per row."""
    w = 0
    for layer in range(1, sizes.size):
        w += sizes[layer]
    return w


@jit
def init_params(sizes, init, rng, theta):
    """Fill ``theta`` from the generator ``rng``: weights by ``init``, biases zero."""
    off = 0
    for layer in range(sizes.size - 1):
        n_in = sizes[layer]
        n_out = sizes[layer + 1]
        n_w = n_in * n_out
        # one call site per draw: each inlined ``normal`` cost 0.3 s of compiling
        scale = np.sqrt(6.0 / (n_in + n_out)) if init == XAVIER else NORMAL_INIT_STD
        if init == HE:
            scale = np.sqrt(2.0 / n_in)
        for i in range(n_w):
            if init == XAVIER:
                theta[off + i] = scale * (2.0 * uniform(rng) - 1.0)
            else:
                theta[off + i] = scale * normal(rng)
        for j in range(n_out):
            theta[off + n_w + j] = 0.0
        off += n_w + n_out


# tanh without libm: Cephes' rational form below 0.625, 1 − 2/(eˢ + 1) above, with eˢ from a
# Cody–Waite reduction, a degree-12 Taylor polynomial and 2ⁿ built as an integer shift. No call
# and no table, so LLVM vectorises the loop over a layer: 1.3 µs per 1,024 values against 8.1 µs
# for np.tanh, within 2 ulp of it (measured over 600k points; tests/test_networks.py checks it).
_TANH_P = (-9.64399179425052238628e-1, -9.92877231001918586564e1, -1.61468768441708447952e3)
_TANH_Q = (1.12811678491632931402e2, 2.23548839060100448583e3, 4.84406305325125486048e3)
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e00


@jit(inline="always")
def fast_tanh(x):
    """tanh(x) to within 2 ulp, in straight-line arithmetic that vectorises (NaN stays NaN)."""
    a = abs(x)
    w = a * a
    p0, p1, p2 = _TANH_P
    q0, q1, q2 = _TANH_Q
    small = a + a * w * ((p0 * w + p1) * w + p2) / (((w + q0) * w + q1) * w + q2)
    y = min(2.0 * a, 40.0)  # 2/(e⁴⁰ + 1) is below half an ulp of 1: tanh rounds to 1 there
    n = np.int64(y * _INV_LN2 + 0.5)
    r = (y - n * _LN2_HI) - n * _LN2_LO  # |r| <= ln2 / 2
    e = 1.0 / 479001600.0
    for k in range(11, -1, -1):  # Horner on 1 + r + r²/2! + … + r¹²/12!, unrolled by numba
        e = e * r + _INV_FACTORIAL[k]
    e *= np.float64(np.int64(1) << n)
    t = small if a < 0.625 else 1.0 - 2.0 / (e + 1.0)
    return math.copysign(t, x) if x == x else x


_INV_FACTORIAL = tuple(1.0 / math.factorial(k) for k in range(12))


@jit
def activate(act, z):
    """Apply hidden activation ``act`` to every value of the contiguous block ``z``, in place.

    One dispatch per block, then a tight loop per activation that LLVM can vectorise."""
    if act == TANH:
        for i in range(z.size):
            z[i] = fast_tanh(z[i])
    elif act == SIGMOID:
        for i in range(z.size):
            z[i] = 1.0 / (1.0 + np.exp(-z[i]))
    elif act == RELU:
        for i in range(z.size):
            z[i] = max(z[i], 0.0)
    else:
        for i in range(z.size):
            v = z[i]
            z[i] = v if v > 0.0 else LEAKY_SLOPE * v


@jit
def slopes(act, a, p):
    """``p *= the activation's derivative at its outputs a`` (no pre-activations kept), over
    the contiguous blocks ``a`` and ``p``: one dispatch per block, then a loop per activation
    that LLVM vectorises (a dispatch per element cost a large net's step tens of µs)."""
    if act == SIGMOID:
        for i in range(p.size):
            p[i] *= a[i] * (1.0 - a[i])
    elif act == TANH:
        for i in range(p.size):
            p[i] *= 1.0 - a[i] * a[i]
    elif act == RELU:
        for i in range(p.size):
            p[i] *= 1.0 if a[i] > 0.0 else 0.0
    else:
        for i in range(p.size):
            p[i] *= 1.0 if a[i] > 0.0 else LEAKY_SLOPE


@jit
def forward(sizes, act, theta, x, acts):
    """Fill ``acts`` with every layer's output for the rows of ``x``; return the output logits.

    Hidden layers are activated; the last layer is left as logits z (the loss applies its link).
    """
    rows = x.shape[0]
    n_layers = sizes.size - 1
    a = x
    off = 0
    col = 0
    for layer in range(n_layers):
        n_in = sizes[layer]
        n_out = sizes[layer + 1]
        n_w = n_in * n_out
        w = theta[off : off + n_w].reshape(n_in, n_out)
        z = acts[rows * col : rows * (col + n_out)].reshape(rows, n_out)
        np.dot(a, w, z)
        for i in range(rows):
            for j in range(n_out):
                z[i, j] += theta[off + n_w + j]
        if layer < n_layers - 1:
            activate(act, acts[rows * col : rows * (col + n_out)])
        a = z
        off += n_w + n_out
        col += n_out
    return a


@jit(inline="always")
def _softplus(z):
    """log(1 + eᶻ) without overflow."""
    return max(z, 0.0) + np.log1p(np.exp(-abs(z)))


@jit(inline="always")
def _logsumexp(z, i):
    """log Σⱼ exp(z[i, j]), shifted by the row's maximum so no exponential overflows."""
    top = z[i, 0]
    for j in range(1, z.shape[1]):
        top = max(top, z[i, j])
    s = 0.0
    for j in range(z.shape[1]):
        s += np.exp(z[i, j] - top)
    return top + np.log(s)


@jit
def output_loss(loss, z, y, labels, d, want_grad):
    """Σ over rows of the per-row loss of logits ``z`` against targets ``y``; the number of rows
    classified right; and, when ``want_grad``, ∂(row loss)/∂z into ``d`` (not yet ÷ rows).

    Per-row losses: cross-entropy logsumexp(z) − y·z; BCE and MSE averaged over the outputs;
    the perceptron's 0/1 error (its "gradient" is Rosenblatt's correction −(y − ŷ), so plain
    SGD with one example per step is the perceptron learning rule).
    """
    rows, n_out = z.shape
    total = 0.0
    correct = 0
    for i in range(rows):
        if loss == CROSS_ENTROPY:
            lse = _logsumexp(z, i)
            row = lse
            for j in range(n_out):
                row -= y[i, j] * z[i, j]
                if want_grad:
                    d[i, j] = np.exp(z[i, j] - lse) - y[i, j]
        elif loss == BCE:
            row = 0.0
            for j in range(n_out):
                row += _softplus(z[i, j]) - y[i, j] * z[i, j]
                if want_grad:
                    d[i, j] = (1.0 / (1.0 + np.exp(-z[i, j])) - y[i, j]) / n_out
            row /= n_out
        elif loss == MSE:
            row = 0.0
            for j in range(n_out):
                e = z[i, j] - y[i, j]
                row += e * e
                if want_grad:
                    d[i, j] = 2.0 * e / n_out
            row /= n_out
        else:  # perceptron: 0/1 error of step(z); Rosenblatt's correction −(y − ŷ) as "gradient"
            error = labels[i] - (1 if z[i, 0] >= 0.0 else 0)
            row = 0.0 if error == 0 else 1.0
            if want_grad:
                d[i, 0] = -error
        total += row
        # prediction: argmax, or a threshold on the single output
        if n_out == 1:
            if loss == MSE:
                pred = 1 if z[i, 0] > 0.5 else 0
            elif loss == PERCEPTRON:
                pred = 1 if z[i, 0] >= 0.0 else 0
            else:
                pred = 1 if z[i, 0] > 0.0 else 0
        else:
            pred = 0
            for j in range(1, n_out):
                if z[i, j] > z[i, pred]:
                    pred = j
        if pred == labels[i]:
            correct += 1
    return total, correct


@jit
def l2_penalty(sizes, theta, l2):
    """½·λ·Σ w² over the weights (biases are not penalised)."""
    if l2 == 0.0:
        return 0.0
    s = 0.0
    off = 0
    for layer in range(sizes.size - 1):
        n_w = sizes[layer] * sizes[layer + 1]
        for i in range(n_w):
            s += theta[off + i] * theta[off + i]
        off += n_w + sizes[layer + 1]
    return 0.5 * l2 * s


@jit
def loss_and_grad(sizes, act, loss, l2, theta, grad, x, y, labels, acts, dbuf):
    """Mean loss over the rows of ``x`` (+ the L2 penalty); its gradient into ``grad``.

    ``acts`` holds at least rows × activation_width(sizes) floats, ``dbuf`` 2 × rows × max width.
    """
    rows = x.shape[0]
    n_layers = sizes.size - 1
    z = forward(sizes, act, theta, x, acts)
    half = dbuf.size // 2
    n_last = sizes[n_layers]
    d = dbuf[: rows * n_last].reshape(rows, n_last)
    total, _ = output_loss(loss, z, y, labels, d, rows > 0)
    inv = 1.0 / rows
    for i in range(rows):
        for j in range(n_last):
            d[i, j] *= inv
    # walk back from the last layer; off / col point at layer l's parameters / activations
    off = param_count(sizes)
    col = activation_width(sizes)
    side = 0
    for layer in range(n_layers - 1, -1, -1):
        n_in = sizes[layer]
        n_out = sizes[layer + 1]
        n_w = n_in * n_out
        off -= n_w + n_out
        col -= n_out
        if layer == 0:
            a_prev = x
        else:
            a_prev = acts[rows * (col - n_in) : rows * col].reshape(rows, n_in)
        g = grad[off : off + n_w].reshape(n_in, n_out)
        np.dot(a_prev.T, d, g)
        # bias gradients: column sums of d, row by row into the gradient's bias slots (each
        # column still summed over i in order, so the same bits as a column loop; contiguous,
        # so the loop vectorises instead of striding down each column)
        bias = grad[off + n_w : off + n_w + n_out]
        for j in range(n_out):
            bias[j] = 0.0
        for i in range(rows):
            for j in range(n_out):
                bias[j] += d[i, j]
        if l2 != 0.0:
            for k in range(n_w):
                grad[off + k] += l2 * theta[off + k]
        if layer > 0:
            w = theta[off : off + n_w].reshape(n_in, n_out)
            side = 1 - side
            p_flat = dbuf[side * half : side * half + rows * n_in]
            p = p_flat.reshape(rows, n_in)
            np.dot(d, w.T, p)
            slopes(act, acts[rows * (col - n_in) : rows * col], p_flat)
            d = p
    return total * inv + l2_penalty(sizes, theta, l2)


@jit(inline="always")  # tiny: a function of its own cost 0.15 s to compile
def max_width(sizes):
    w = 0
    for layer in range(sizes.size):
        w = max(w, sizes[layer])
    return w


@jit
def gather(x, index, start, stop, out):
    """Rows ``index[start:stop]`` of ``x`` copied into the leading rows of the flat ``out``;
    returns them as a C-contiguous (stop − start) × columns view."""
    cols = x.shape[1]
    view = out[: (stop - start) * cols].reshape(stop - start, cols)
    for i in range(stop - start):
        src = index[start + i]
        for j in range(cols):
            view[i, j] = x[src, j]
    return view


@jit(nogil=True)
def evaluate(sizes, act, loss, theta, x, y, labels, acts, out):
    """(mean data loss, accuracy) of ``theta`` over a whole data set into ``out[0]``,
    ``out[1]``, in chunks of EVAL_CHUNK rows (results in an array, not a returned tuple: the
    engine calls it as a first-class function). Each chunk is a view of ``x``'s rows (they are
    contiguous already: copying them cost 1.6 MB of traffic per chunk on the digits).

    ``acts`` holds at least EVAL_CHUNK × activation_width(sizes) floats.
    """
    n = x.shape[0]
    total = 0.0
    correct = 0
    dummy = acts[:1].reshape(1, 1)  # output_loss writes no gradient here
    for start in range(0, n, EVAL_CHUNK):
        stop = min(start + EVAL_CHUNK, n)
        z = forward(sizes, act, theta, x[start:stop], acts)
        part, hits = output_loss(loss, z, y[start:stop], labels[start:stop], dummy, stop < start)
        total += part
        correct += hits
    out[0] = total / n
    out[1] = correct / n


@jit
def eval_buffer(sizes):
    """Scratch activations for ``evaluate`` (allocated once per run, never per call)."""
    return np.empty(EVAL_CHUNK * activation_width(sizes))


@jit
def output_link(loss, z, out):
    """Output probabilities of the logits ``z`` into ``out``: softmax, sigmoid, identity or
    step(z)."""
    for i in range(z.shape[0]):
        if loss == CROSS_ENTROPY:
            lse = _logsumexp(z, i)
            for j in range(z.shape[1]):
                out[i, j] = np.exp(z[i, j] - lse)
        else:
            for j in range(z.shape[1]):
                v = z[i, j]
                if loss == BCE:
                    v = 1.0 / (1.0 + np.exp(-v))
                elif loss == PERCEPTRON:
                    v = 1.0 if v >= 0.0 else 0.0
                out[i, j] = v


def predict(sizes, act, loss, theta, x):
    """Output probabilities for every row of ``x``, EVAL_CHUNK rows at a time. A Python loop
    over the jitted ``forward`` (compiled by training already) and ``output_link``:
    one jitted function holding them all cost a first run 1.7 s of compiling."""
    n = x.shape[0]
    out = np.empty((n, int(sizes[sizes.size - 1])))
    acts = eval_buffer(sizes)
    for start in range(0, n, EVAL_CHUNK):
        stop = min(start + EVAL_CHUNK, n)
        output_link(loss, forward(sizes, act, theta, x[start:stop], acts), out[start:stop])
    return out


def plane_losses(sizes, act, loss, l2, center, u, v, alphas, betas, x, y, labels):
    """Objective at θ = center + α·u + β·v on the grid ``alphas × betas`` (rows follow betas):
    the loss landscape under a weight-space trajectory. Rows run on a pool of threads, each
    point one call of ``evaluate`` (compiled by training already; it releases the GIL): a
    jitted ``prange`` loop cost a first run about 4 s of compiling its parallel lowering, a
    jitted row function 1 s more than this."""
    out = np.empty((betas.size, alphas.size))

    def row(jb):
        acts = eval_buffer(sizes)
        scores = np.empty(2)
        for ia in range(alphas.size):
            theta = center + alphas[ia] * u + betas[jb] * v  # as (c + α·u) + β·v, rounding too
            evaluate(sizes, act, loss, theta, x, y, labels, acts, scores)
            out[jb, ia] = scores[0] + l2_penalty(sizes, theta, l2)

    in_threads(lambda begin, end: [row(jb) for jb in range(begin, end)], betas.size, smallest=1)
    return out


@jit
def layer_gradient_norms(sizes, act, loss, theta, x, y, labels, acts, scratch, out):
    """‖∂L/∂W_l‖ of every layer ``l`` into ``out``: the gradient of the mean data loss (no L2
    term) over the whole training set, summed chunk by chunk through the very backprop training
    uses. The backprop lesson draws it per epoch to show gradients vanishing in deep sigmoid
    nets. ``scratch`` = (grad, total: param_count floats each; dbuf: 2 × EVAL_CHUNK × max width).
    """
    grad, total, dbuf = scratch
    n = x.shape[0]
    for k in range(total.size):
        total[k] = 0.0
    for start in range(0, n, EVAL_CHUNK):
        stop = min(start + EVAL_CHUNK, n)
        xb, yb, lb = x[start:stop], y[start:stop], labels[start:stop]
        loss_and_grad(sizes, act, loss, 0.0, theta, grad, xb, yb, lb, acts, dbuf)
        share = (stop - start) / n
        for k in range(total.size):
            total[k] += share * grad[k]
    off = 0
    for layer in range(sizes.size - 1):
        n_w = sizes[layer] * sizes[layer + 1]
        s = 0.0
        for k in range(n_w):
            s += total[off + k] * total[off + k]
        out[layer] = np.sqrt(s)
        off += n_w + sizes[layer + 1]


@jit(nogil=True)
def path_gradient_norms(sizes, act, loss, path, rows, x, y, labels, out):
    """``layer_gradient_norms`` at each of the first ``rows`` θ of ``path`` into ``out[row]``:
    the engine calls it after a run trains (only when asked), so training never compiles it."""
    n_params = path.shape[1]
    acts = eval_buffer(sizes)
    width = max_width(sizes)
    scratch = (np.empty(n_params), np.empty(n_params), np.empty(2 * EVAL_CHUNK * width))
    for row in range(rows):
        layer_gradient_norms(sizes, act, loss, path[row], x, y, labels, acts, scratch, out[row])


def activation_slopes(act, a, out):
    """The derivative of activation ``act`` at every output ``a`` (a 1-D float64 array) into
    ``out``: the factor backprop multiplies by (``slopes``, the very code training runs, on
    ones), for the lessons' figure."""
    out[:] = 1.0
    slopes(act, np.ascontiguousarray(a, dtype=np.float64), out)
