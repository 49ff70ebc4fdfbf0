//! conv2 for training on burn-flex: the forward pass and the weight gradient as im2col matrix
//! products.
//!
//! burn computes a convolution's weight gradient as another convolution (the batch becomes the
//! channels and the 14x14 output gradient the kernel), which on the CPU costs two to three
//! times the forward pass. Here the forward pass and the weight gradient are plain matrix
//! products over the im2col columns of a chunk of images (`[500][N]`, `N = 196` per image: row
//! `(i, ky, kx)` is input map `i` shifted by `(ky − 2, kx − 2)`, zero outside):
//!
//! - forward: `y = W · columns` (`[50][500] x [500][N]`), plus the bias;
//! - weight gradient: `dW = Σ_chunks columns · gᵀ` (`[500][N] x [N][50]`), i.e.
//!   `dW[o][i][ky][kx] = Σ_b Σ_y Σ_x g[b][o][y][x] · x[b][i][y + ky − 2][x + kx − 2]`;
//! - the input gradient stays burn's (a transposed convolution); as a product it would need a
//!   fresh `[500][N]` buffer per chunk, and the page faults of those buffers cost more than the
//!   product saves.
//!
//! The backward pass rebuilds the columns rather than keeping them from the forward pass (48 MiB
//! per batch of 128; rebuilding them takes about 1.6 ms). Chunks of `CHUNK` images run in parallel
//! and the weight gradient adds their products in chunk order, so the results do not depend on the number of threads. [`forward`] registers
//! the operation with burn's autodiff when its tensors are tracked `Flex` f32 tensors (training
//! on the CPU) and runs the plain `Conv2d` otherwise (evaluation, other backends): the
//! parameters, checkpoints and exported blobs are the same either way.

use burn::backend::autodiff::{
    NodeId,
    checkpoint::{base::Checkpointer, strategy::NoCheckpointing},
    grads::Gradients,
    ops::{Backward, Ops, OpsKind},
};
use burn::backend::flex::FlexTensor;
use burn::backend::ops::{ConvOptions, FloatTensorOps, ModuleOps};
use burn::backend::{Autodiff, Flex, Shape, TensorData, TensorMetadata};
use burn::nn::conv::Conv2d;
use burn::prelude::*;
use lenet_core::shape::{C1, C2, K, P1, PAD};
use rayon::prelude::*;

/// The autodiff backend the CPU trainer runs (no gradient checkpointing).
type Ad = Autodiff<Flex, NoCheckpointing>;

/// Output positions per image (14 x 14).
const HW: usize = P1 * P1;
/// Input values per image (`[20][14][14]`).
const IN: usize = C1 * HW;
/// Output values per image (`[50][14][14]`).
const OUT: usize = C2 * HW;
/// im2col rows: `C1 * K * K`, in the kernel's OIHW order.
const COLS: usize = C1 * K * K;
/// Images per matrix product (a column buffer of about 6 MiB).
const CHUNK: usize = 16;

/// `conv.forward(x)`, as matrix products when training on `Flex` (see the module docs).
pub fn forward(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    let [_, c, h, w] = x.dims();
    let fits = (c, h, w) == (C1, P1, P1)
        && conv.kernel_size == [K, K]
        && conv.stride == [1, 1]
        && conv.dilation == [1, 1]
        && conv.groups == 1
        && conv.padding == burn::nn::PaddingConfig2d::Same;
    if fits
        && let Some(b) = &conv.bias
        && let Some(y) = tracked(x.clone(), conv.weight.val(), b.val())
    {
        return y;
    }
    conv.forward(x)
}

/// The operation on tracked `Flex` f32 tensors; `None` for any other tensors.
fn tracked(x: Tensor<4>, w: Tensor<4>, b: Tensor<1>) -> Option<Tensor<4>> {
    let x = x.try_into_primitive::<Ad>().ok()?;
    let w = w.try_into_primitive::<Ad>().ok()?;
    let b = b.try_into_primitive::<Ad>().ok()?;
    let y = flex_forward(x.primitive(), w.primitive(), b.primitive())?;
    let out = match Conv2Op
        .prepare::<NoCheckpointing>([x.node(), w.node(), b.node()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(mut prep) => {
            let state = (prep.checkpoint(&x), prep.checkpoint(&w));
            prep.finish(state, y)
        }
        OpsKind::UnTracked(prep) => prep.finish(y),
    };
    Some(Tensor::from_primitive::<Ad>(out))
}

/// `f` on the tensor's values if it holds f32 (copied only if the layout is not contiguous).
fn with_f32<R>(t: &FlexTensor, f: impl FnOnce(&[f32]) -> R) -> Option<R> {
    let t = t.to_contiguous();
    t.as_slice::<f32>().map(f)
}

fn flex_forward(x: &FlexTensor, w: &FlexTensor, b: &FlexTensor) -> Option<FlexTensor> {
    let n = x.shape().dims::<4>()[0];
    if w.shape().dims::<4>() != [C2, C1, K, K] || b.shape().dims::<1>() != [C2] {
        return None;
    }
    let y = with_f32(x, |x| {
        with_f32(w, |w| with_f32(b, |b| forward_data(x, w, b, n)))
    })
    .flatten()
    .flatten()?;
    Some(FlexTensor::from_data(TensorData::new(
        y,
        Shape::new([n, C2, P1, P1]),
    )))
}

/// The backward step: burn's input gradient, [`weight_grad`] for the kernel, the bias gradient
/// as a sum.
#[derive(Debug)]
struct Conv2Op;

impl Backward<Flex, 3> for Conv2Op {
    type State = (NodeId, NodeId);

    fn backward(
        self,
        ops: Ops<Self::State, 3>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_w, node_b] = ops.parents;
        let grad = grads.consume::<Flex>(&ops.node);
        let (x_state, w_state) = ops.state;
        let x: FlexTensor = checkpointer.retrieve_node_output(x_state);
        let w: FlexTensor = checkpointer.retrieve_node_output(w_state);
        let n = x.shape().dims::<4>()[0];
        if let Some(node) = node_x {
            let options = ConvOptions::new([1, 1], [PAD, PAD], [1, 1], 1);
            let dx = Flex::conv2d_x_backward(x.clone(), w, grad.clone(), options);
            grads.register::<Flex>(node.id, dx);
        }
        if let Some(node) = node_w {
            let dw = with_f32(&x, |xs| with_f32(&grad, |gs| weight_grad(xs, gs, n)))
                .flatten()
                .expect("conv2's forward pass checked the tensors are f32");
            let dw = FlexTensor::from_data(TensorData::new(dw, Shape::new([C2, C1, K, K])));
            grads.register::<Flex>(node.id, dw);
        }
        if let Some(node) = node_b {
            // Σ over images and positions of the output gradient.
            let db = Flex::float_sum_dim(Flex::float_sum_dim(Flex::float_sum_dim(grad, 3), 2), 0);
            grads.register::<Flex>(node.id, Flex::float_reshape(db, Shape::new([C2])));
        }
    }
}

/// `a · b` (`[r][k] x [k][c]`, both row-major, `b` given transposed when `b_t`), row-major
/// `[r][c]`, through burn-flex's matrix product.
fn product(a: FlexTensor, b: FlexTensor, b_t: bool) -> FlexTensor {
    let b = if b_t { Flex::float_transpose(b) } else { b };
    Flex::float_matmul(a, b).to_contiguous()
}

fn values(t: &FlexTensor) -> &[f32] {
    t.as_slice::<f32>().expect("contiguous f32")
}

fn tensor(v: Vec<f32>, rows: usize, cols: usize) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(v, Shape::new([rows, cols])))
}

/// The image range of chunk `c` of `n` images.
fn chunk(c: usize, n: usize) -> (usize, usize) {
    (c * CHUNK, CHUNK.min(n - c * CHUNK))
}

/// conv2 (5x5, same padding) of `n` images `x` (`[n][20][14][14]`) with kernel `w` (OIHW
/// `[50][20][5][5]`) and `bias`: `[n][50][14][14]`.
pub fn forward_data(x: &[f32], w: &[f32], bias: &[f32], n: usize) -> Vec<f32> {
    assert_eq!(
        (x.len(), w.len(), bias.len()),
        (n * IN, C2 * COLS, C2),
        "conv2 shapes"
    );
    let wt = tensor(w.to_vec(), C2, COLS);
    let mut y = vec![0f32; n * OUT];
    y.par_chunks_mut(CHUNK * OUT)
        .enumerate()
        .for_each(|(c, yc)| {
            let (start, m) = chunk(c, n);
            let cols = tensor(columns(&x[start * IN..(start + m) * IN], m), COLS, m * HW);
            let p = product(wt.clone(), cols, false); // [50][m·196]
            for (o, row) in values(&p).chunks_exact(m * HW).enumerate() {
                for (b, src) in row.chunks_exact(HW).enumerate() {
                    let dst = &mut yc[b * OUT + o * HW..b * OUT + (o + 1) * HW];
                    for (d, &s) in dst.iter_mut().zip(src) {
                        *d = s + bias[o];
                    }
                }
            }
        });
    y
}

/// conv2's kernel gradient, OIHW `[50][20][5][5]`, from its input `x` (`[n][20][14][14]`) and
/// output gradient `g` (`[n][50][14][14]`).
pub fn weight_grad(x: &[f32], g: &[f32], n: usize) -> Vec<f32> {
    assert_eq!((x.len(), g.len()), (n * IN, n * OUT), "conv2 shapes");
    let parts: Vec<FlexTensor> = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let (start, m) = chunk(c, n);
            let cols = tensor(columns(&x[start * IN..(start + m) * IN], m), COLS, m * HW);
            // The chunk's output gradient as [50][m·196].
            let mut gt = vec![0f32; C2 * m * HW];
            for (b, img) in g[start * OUT..(start + m) * OUT]
                .chunks_exact(OUT)
                .enumerate()
            {
                for (o, row) in img.chunks_exact(HW).enumerate() {
                    gt[(o * m + b) * HW..(o * m + b + 1) * HW].copy_from_slice(row);
                }
            }
            product(cols, tensor(gt, C2, m * HW), true) // [500][50]
        })
        .collect();
    // Σ over chunks in order, then [500][50] → [50][500].
    let mut sum = vec![0f32; COLS * C2];
    for part in &parts {
        for (s, p) in sum.iter_mut().zip(values(part)) {
            *s += p;
        }
    }
    let mut dw = vec![0f32; C2 * COLS];
    for (j, row) in sum.chunks_exact(C2).enumerate() {
        for (o, &v) in row.iter().enumerate() {
            dw[o * COLS + j] = v;
        }
    }
    dw
}

/// For im2col row `(i, ky, kx)` and output row `y`: the input row read (if any) and the output
/// columns `x0..x1` that read input columns `src0..`.
fn shift(ky: usize, kx: usize, y: usize) -> Option<(usize, usize, usize, usize)> {
    let yy = (y + ky).checked_sub(PAD).filter(|&yy| yy < P1)?;
    let (x0, x1) = (PAD.saturating_sub(kx), (P1 + PAD - kx).min(P1));
    Some((yy, x0, x1, x0 + kx - PAD))
}

/// im2col columns of `m` images `[m][20][14][14]`: row `(i, ky, kx)` holds, for every image and
/// output position `(y, x)`, the input `x[i][y + ky − 2][x + kx − 2]` (0 outside the map).
fn columns(x: &[f32], m: usize) -> Vec<f32> {
    let mut cols = vec![0f32; COLS * m * HW];
    for (j, row) in cols.chunks_exact_mut(m * HW).enumerate() {
        let (i, ky, kx) = (j / (K * K), j / K % K, j % K);
        for b in 0..m {
            let map = &x[b * IN + i * HW..b * IN + (i + 1) * HW];
            for y in 0..P1 {
                if let Some((yy, x0, x1, s0)) = shift(ky, kx, y) {
                    let dst = &mut row[b * HW + y * P1..b * HW + (y + 1) * P1];
                    dst[x0..x1].copy_from_slice(&map[yy * P1 + s0..yy * P1 + s0 + (x1 - x0)]);
                }
            }
        }
    }
    cols
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The sum written out, term by term.
    fn naive(x: &[f32], g: &[f32], n: usize) -> Vec<f32> {
        let mut dw = vec![0f64; C2 * COLS];
        for b in 0..n {
            for o in 0..C2 {
                for i in 0..C1 {
                    for ky in 0..K {
                        for kx in 0..K {
                            let mut s = 0f64;
                            for y in 0..P1 {
                                for xo in 0..P1 {
                                    let (yy, xx) = (y + ky, xo + kx);
                                    if yy < PAD || xx < PAD || yy - PAD >= P1 || xx - PAD >= P1 {
                                        continue;
                                    }
                                    s += f64::from(g[((b * C2 + o) * P1 + y) * P1 + xo])
                                        * f64::from(
                                            x[((b * C1 + i) * P1 + yy - PAD) * P1 + xx - PAD],
                                        );
                                }
                            }
                            dw[((o * C1 + i) * K + ky) * K + kx] += s;
                        }
                    }
                }
            }
        }
        dw.into_iter().map(|v| v as f32).collect()
    }

    /// `len` pseudo-random values in `[-0.5, 0.5)` from `seed` (xorshift64).
    pub(crate) fn random(len: usize, seed: u64) -> Vec<f32> {
        let mut s = seed;
        (0..len)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5
            })
            .collect()
    }

    fn close(got: &[f32], want: &[f32], what: &str) {
        assert_eq!(got.len(), want.len(), "{what} length");
        for (k, (a, b)) in got.iter().zip(want).enumerate() {
            assert!(
                (a - b).abs() <= 1e-3 * (1.0 + b.abs()),
                "{what}[{k}]: {a} vs {b}"
            );
        }
    }

    fn values(t: Tensor<4>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    /// Output and gradients (input, kernel, bias) of `sum(conv(x) · r)` through `run`.
    fn grads(run: impl Fn(&Conv2d, Tensor<4>) -> Tensor<4>) -> [Vec<f32>; 4] {
        use burn::nn::{PaddingConfig2d, conv::Conv2dConfig};
        let device = Device::flex().autodiff();
        let n = 5;
        let mut conv = Conv2dConfig::new([C1, C2], [K, K])
            .with_padding(PaddingConfig2d::Same)
            .init(&device);
        let w = Tensor::<4>::from_data(
            TensorData::new(random(C2 * COLS, 6), [C2, C1, K, K]),
            &device,
        );
        conv.weight = burn::module::Param::from_tensor(w);
        let b = Tensor::<1>::from_data(TensorData::new(random(C2, 3), [C2]), &device);
        conv.bias = Some(burn::module::Param::from_tensor(b));
        let x = Tensor::<4>::from_data(
            TensorData::new(random(n * C1 * HW, 4), [n, C1, P1, P1]),
            &device,
        )
        .require_grad();
        let r = Tensor::<4>::from_data(
            TensorData::new(random(n * C2 * HW, 5), [n, C2, P1, P1]),
            &device,
        );
        let y = run(&conv, x.clone());
        let out = values(y.clone().inner());
        let g = (y * r).sum().backward();
        let gx = values(x.grad(&g).unwrap());
        let gw = values(conv.weight.grad(&g).unwrap());
        let gb = conv.bias.as_ref().unwrap().grad(&g).unwrap();
        [out, gx, gw, gb.into_data().try_to_vec::<f32>().unwrap()]
    }

    #[test]
    fn forward_and_gradients_match_burns_convolution() {
        let want = grads(|c, x| c.forward(x));
        let got = grads(|c, x| {
            let b = c.bias.as_ref().unwrap().val();
            tracked(x, c.weight.val(), b).expect("a tracked Flex tensor takes the fast path")
        });
        for (g, (w, what)) in got.iter().zip(want.iter().zip(["y", "dx", "dw", "db"])) {
            close(g, w, what);
        }
    }

    #[test]
    fn weight_grad_matches_the_sum() {
        // 19 images: one full chunk and a partial one.
        let n = 19;
        let x = random(n * C1 * HW, 1);
        let g = random(n * C2 * HW, 2);
        let want = naive(&x, &g, n);
        close(&weight_grad(&x, &g, n), &want, "dW");
    }
}
