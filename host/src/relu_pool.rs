//! ReLU followed by the 2x2/2 max-pool, as one operation for training on burn-flex.
//!
//! burn runs the pair as four passes over memory: ReLU, max-pool (keeping an index map), then in
//! the backward pass the pool's scatter into a zeroed full-size gradient and ReLU's mask. Here
//! one pass computes `y = max(0, max of the window)` and remembers, per output, which of the four
//! positions gave it (or that it is 0, when nothing is positive); the backward pass writes each
//! output's gradient to that one position and zeros the rest of the window. Since ReLU is
//! monotonic, `max(relu(window)) = relu(max(window))`, and the gradient is burn's: ReLU passes
//! it only where the input is positive, and the pool sends it to the window's first maximum
//! (row-major order).
//!
//! [`forward`] registers the operation with burn's autodiff when its input is a tracked `Flex`
//! f32 tensor (training on the CPU) and runs burn's ReLU and `MaxPool2d` otherwise (evaluation,
//! other backends). Images and channels run in parallel; the result does not depend on the
//! number of threads.

use std::sync::Arc;

use burn::backend::autodiff::{
    checkpoint::{base::Checkpointer, strategy::NoCheckpointing},
    grads::Gradients,
    ops::{Backward, Ops, OpsKind},
};
use burn::backend::flex::FlexTensor;
use burn::backend::{Autodiff, Flex, Shape, TensorData, TensorMetadata};
use burn::nn::pool::MaxPool2d;
use burn::prelude::*;
use rayon::prelude::*;

/// The autodiff backend the CPU trainer runs (no gradient checkpointing).
type Ad = Autodiff<Flex, NoCheckpointing>;

/// Marks an output that is 0 (no positive input in its window): no gradient flows back.
/// (burn's ReLU passes no gradient where its output is 0, the pool's chosen position included.)
const NONE: u8 = 4;

/// `pool.forward(relu(x))` for a 2x2/2 `pool`, as one operation when training on `Flex` (see the
/// module docs). `x` is `[n][c][h][w]` with even `h` and `w`.
pub fn forward(pool: &MaxPool2d, x: Tensor<4>) -> Tensor<4> {
    let [_, _, h, w] = x.dims();
    let fits = pool.kernel_size == [2, 2]
        && pool.stride == [2, 2]
        && pool.dilation == [1, 1]
        && pool.padding == burn::nn::PaddingConfig2d::Valid
        && h % 2 == 0
        && w % 2 == 0;
    if fits && let Some(y) = tracked(x.clone()) {
        return y;
    }
    pool.forward(burn::tensor::activation::relu(x))
}

/// The operation on a tracked `Flex` f32 tensor; `None` for any other tensor.
fn tracked(x: Tensor<4>) -> Option<Tensor<4>> {
    let x = x.try_into_primitive::<Ad>().ok()?;
    let dims = x.primitive().shape().dims::<4>();
    let (y, which) = x
        .primitive()
        .to_contiguous()
        .as_slice::<f32>()
        .map(|xs| forward_data(xs, dims))?;
    let [n, c, h, w] = dims;
    let y = FlexTensor::from_data(TensorData::new(y, Shape::new([n, c, h / 2, w / 2])));
    let out = match ReluPoolOp
        .prepare::<NoCheckpointing>([x.node()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => prep.finish(
            State {
                dims,
                which: Arc::new(which),
            },
            y,
        ),
        OpsKind::UnTracked(prep) => prep.finish(y),
    };
    Some(Tensor::from_primitive::<Ad>(out))
}

/// `relu` then 2x2/2 max-pool of `x` (`dims = [n][c][h][w]`): the pooled values and, per output,
/// the window position (0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right) of its first
/// maximum, or [`NONE`] where the output is 0.
pub fn forward_data(x: &[f32], dims: [usize; 4]) -> (Vec<f32>, Vec<u8>) {
    let [n, c, h, w] = dims;
    assert_eq!(x.len(), n * c * h * w, "relu_pool shape");
    let (ph, pw) = (h / 2, w / 2);
    let mut y = vec![0f32; n * c * ph * pw];
    let mut which = vec![NONE; y.len()];
    y.par_chunks_mut(ph * pw)
        .zip(which.par_chunks_mut(ph * pw))
        .zip(x.par_chunks(h * w))
        .for_each(|((y, which), x)| {
            for py in 0..ph {
                let top = &x[2 * py * w..(2 * py + 1) * w];
                let bottom = &x[(2 * py + 1) * w..(2 * py + 2) * w];
                for px in 0..pw {
                    let window = [
                        top[2 * px],
                        top[2 * px + 1],
                        bottom[2 * px],
                        bottom[2 * px + 1],
                    ];
                    let (mut best, mut at) = (0f32, NONE);
                    for (k, &v) in (0u8..).zip(&window) {
                        // Strictly greater: the first maximum wins, and only positive values;
                        // a NaN wins (as in burn's ReLU and pool, which both keep it).
                        if v > best || v.is_nan() {
                            (best, at) = (v, k);
                        }
                    }
                    y[py * pw + px] = best;
                    which[py * pw + px] = at;
                }
            }
        });
    (y, which)
}

/// The input gradient `[n][c][h][w]` from the output gradient `g` (`[n][c][h/2][w/2]`) and the
/// positions [`forward_data`] recorded.
pub fn backward_data(g: &[f32], which: &[u8], dims: [usize; 4]) -> Vec<f32> {
    let [n, c, h, w] = dims;
    let (ph, pw) = (h / 2, w / 2);
    assert_eq!(
        (g.len(), which.len()),
        (n * c * ph * pw, n * c * ph * pw),
        "relu_pool shape"
    );
    let mut dx = vec![0f32; n * c * h * w];
    dx.par_chunks_mut(h * w)
        .zip(g.par_chunks(ph * pw))
        .zip(which.par_chunks(ph * pw))
        .for_each(|((dx, g), which)| {
            for py in 0..ph {
                for px in 0..pw {
                    let k = which[py * pw + px];
                    if k != NONE {
                        let (dy, dxo) = (usize::from(k / 2), usize::from(k % 2));
                        dx[(2 * py + dy) * w + 2 * px + dxo] = g[py * pw + px];
                    }
                }
            }
        });
    dx
}

/// What the backward pass needs: the input's shape and the recorded window positions.
#[derive(Debug, Clone)]
struct State {
    dims: [usize; 4],
    which: Arc<Vec<u8>>,
}

/// The backward step: [`backward_data`].
#[derive(Debug)]
struct ReluPoolOp;

impl Backward<Flex, 1> for ReluPoolOp {
    type State = State;

    fn backward(
        self,
        ops: Ops<Self::State, 1>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let [node_x] = ops.parents;
        let grad = grads.consume::<Flex>(&ops.node);
        let Some(node) = node_x else { return };
        let State { dims, which } = ops.state;
        let grad = grad.to_contiguous();
        let g = grad
            .as_slice::<f32>()
            .expect("relu_pool's forward pass checked the tensor is f32");
        let dx = backward_data(g, &which, dims);
        grads.register::<Flex>(
            node.id,
            FlexTensor::from_data(TensorData::new(dx, Shape::new(dims))),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conv2::tests::random;
    use burn::nn::pool::MaxPool2dConfig;

    /// Output and input gradient of `sum(pool(relu(x)) · r)` through `run`.
    fn grads(run: impl Fn(&MaxPool2d, Tensor<4>) -> Tensor<4>, dims: [usize; 4]) -> [Vec<f32>; 2] {
        let device = Device::flex().autodiff();
        let pool = MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init();
        let [n, c, h, w] = dims;
        let mut xs = random(n * c * h * w, 7);
        // Exact zeros and ties: the rules for "nothing positive" and "first maximum" matter.
        for v in xs.iter_mut().step_by(5) {
            *v = 0.0;
        }
        for k in (0..xs.len() - 1).step_by(11) {
            xs[k + 1] = xs[k];
        }
        let x = Tensor::<4>::from_data(TensorData::new(xs, dims), &device).require_grad();
        let r = Tensor::<4>::from_data(
            TensorData::new(random(n * c * h * w / 4, 8), [n, c, h / 2, w / 2]),
            &device,
        );
        let y = run(&pool, x.clone());
        let out = y.clone().inner().into_data().try_to_vec::<f32>().unwrap();
        let g = (y * r).sum().backward();
        let gx = x.grad(&g).unwrap().into_data().try_to_vec::<f32>().unwrap();
        [out, gx]
    }

    #[test]
    fn output_and_gradient_equal_burns_relu_then_max_pool() {
        for dims in [[3, 20, 28, 28], [2, 50, 14, 14]] {
            let want = grads(|p, x| p.forward(burn::tensor::activation::relu(x)), dims);
            let got = grads(
                |_, x| tracked(x).expect("a tracked Flex tensor takes the fused path"),
                dims,
            );
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&got[0]), bits(&want[0]), "y, {dims:?}");
            assert_eq!(bits(&got[1]), bits(&want[1]), "dx, {dims:?}");
        }
    }
}
