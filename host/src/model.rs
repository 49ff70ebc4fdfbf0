//! The seed LeNet as a burn module, Keras-style initialisation, and conversion to the flat
//! parameter layout of the weight blob.

use burn::{
    module::{Param, ParamId},
    nn::{
        Initializer, Linear, LinearConfig, PaddingConfig2d,
        conv::{Conv2d, Conv2dConfig},
        pool::{MaxPool2d, MaxPool2dConfig},
    },
    prelude::*,
};
use lenet_core::blob::Activation;
use lenet_core::shape::{C1, C2, CLASSES, FC1, FLAT, IN_C, IN_H, IN_W, K, PAD};

/// Hidden-layer activation as a CLI value.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Act {
    /// Rectified linear unit (default).
    #[default]
    Relu,
    /// Hyperbolic tangent, as in the 1998 original (f32 export only).
    Tanh,
}

impl From<Act> for Activation {
    fn from(a: Act) -> Self {
        match a {
            Act::Relu => Activation::Relu,
            Act::Tanh => Activation::Tanh,
        }
    }
}

/// `INPUT 28x28x1 => CONV 20@5x5 same => act => MAXPOOL 2/2 => CONV 50@5x5 same => act =>
/// MAXPOOL 2/2 => FLATTEN 2450 => FC 500 => act => FC 10` (logits; softmax is in the loss).
#[derive(Module, Debug)]
pub struct LeNet {
    /// 1 → 20 channels, 5x5, same padding.
    pub conv1: Conv2d,
    /// 20 → 50 channels, 5x5, same padding.
    pub conv2: Conv2d,
    /// 2x2 max-pool, stride 2.
    pub pool: MaxPool2d,
    /// 2450 → 500.
    pub fc1: Linear,
    /// 500 → 10.
    pub fc2: Linear,
    /// Hidden-layer activation (configuration, not a parameter).
    #[module(skip)]
    pub activation: Act,
}

fn glorot(shape: [usize; 4], fan_in: usize, fan_out: usize, device: &Device) -> Param<Tensor<4>> {
    Initializer::XavierUniform { gain: 1.0 }.init_with(shape, Some(fan_in), Some(fan_out), device)
}

impl LeNet {
    /// A freshly initialised network: Glorot-uniform kernels and zero biases, as Keras does
    /// (burn's default init learns much more slowly with the seed's plain SGD recipe).
    pub fn new(activation: Act, device: &Device) -> Self {
        let conv = |i, o| {
            let mut c = Conv2dConfig::new([i, o], [K, K])
                .with_padding(PaddingConfig2d::Same)
                .init(device);
            c.weight = glorot([o, i, K, K], i * K * K, o * K * K, device);
            c.bias = Some(Initializer::Zeros.init([o], device));
            c
        };
        let dense = |i, o| {
            let mut l = LinearConfig::new(i, o).init(device);
            l.weight = Initializer::XavierUniform { gain: 1.0 }.init_with(
                [i, o],
                Some(i),
                Some(o),
                device,
            );
            l.bias = Some(Initializer::Zeros.init([o], device));
            l
        };
        let mut net = Self {
            conv1: conv(IN_C, C1),
            conv2: conv(C1, C2),
            pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
            fc1: dense(FLAT, FC1),
            fc2: dense(FC1, CLASSES),
            activation,
        };
        // burn draws parameter ids at random, and checkpoints store them: fixed ids (1..=8, in
        // the blob's section order) make checkpoints of the same run byte-identical.
        let ids = [
            &mut net.conv1.weight.id,
            &mut net.conv1.bias.as_mut().expect("conv bias").id,
            &mut net.conv2.weight.id,
            &mut net.conv2.bias.as_mut().expect("conv bias").id,
            &mut net.fc1.weight.id,
            &mut net.fc1.bias.as_mut().expect("dense bias").id,
            &mut net.fc2.weight.id,
            &mut net.fc2.bias.as_mut().expect("dense bias").id,
        ];
        for (n, id) in (1u64..).zip(ids) {
            *id = ParamId::from(n);
        }
        net
    }

    /// conv1 with bias as `[1, 20, 25] x [B, 25, 784]` → `[B, 20, 28, 28]`.
    fn conv1(&self, patches: Tensor<3>) -> Tensor<4> {
        let [n, _, _] = patches.dims();
        let w: Tensor<3> = self.conv1.weight.val().reshape([1, C1, IN_C * K * K]);
        let b: Tensor<3> = self
            .conv1
            .bias
            .as_ref()
            .expect("conv bias")
            .val()
            .reshape([1, C1, 1]);
        (w.matmul(patches) + b).reshape([n, C1, IN_H, IN_W])
    }

    fn act<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        match self.activation {
            Act::Relu => burn::tensor::activation::relu(x),
            Act::Tanh => x.tanh(),
        }
    }

    /// The activation, then the 2x2/2 max-pool: for ReLU one fused operation when training on
    /// the CPU ([`crate::relu_pool::forward`]).
    fn act_pool(&self, x: Tensor<4>) -> Tensor<4> {
        match self.activation {
            Act::Relu => crate::relu_pool::forward(&self.pool, x),
            Act::Tanh => self.pool.forward(x.tanh()),
        }
    }

    /// conv1 patches of `B` images (from [`conv1_patches`]) → `[B, 10]` logits.
    ///
    /// conv1 runs as one matrix product of its `[20, 25]` kernel with the patches: the image
    /// needs no gradient, so its im2col is built once on the host, and the product and its
    /// weight gradient cost a fifth of burn's general convolution (which also prepares an input
    /// gradient that nothing uses). conv2 runs through [`crate::conv2::forward`]: im2col matrix
    /// products for its forward pass and weight gradient when training on the CPU. ReLU and
    /// pooling are one operation there ([`crate::relu_pool`]). The parameters stay those of a
    /// `Conv2d`.
    pub fn forward(&self, patches: Tensor<3>) -> Tensor<2> {
        let x = self.act_pool(self.conv1(patches));
        let x = self.act_pool(crate::conv2::forward(&self.conv2, x));
        let x: Tensor<2> = x.flatten(1, 3);
        self.fc2.forward(self.act(self.fc1.forward(x)))
    }
}

/// The network's parameters in the blob's layouts: conv OIHW, dense `[out][in]`.
#[derive(Debug, Clone, PartialEq)]
pub struct FlatParams {
    /// Hidden-layer activation.
    pub activation: Activation,
    /// `[20][1][5][5]`.
    pub conv1_w: Vec<f32>,
    /// `[20]`.
    pub conv1_b: Vec<f32>,
    /// `[50][20][5][5]`.
    pub conv2_w: Vec<f32>,
    /// `[50]`.
    pub conv2_b: Vec<f32>,
    /// `[500][2450]`.
    pub fc1_w: Vec<f32>,
    /// `[500]`.
    pub fc1_b: Vec<f32>,
    /// `[10][500]`.
    pub fc2_w: Vec<f32>,
    /// `[10]`.
    pub fc2_b: Vec<f32>,
}

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .expect("f32 tensor data")
}

fn bias(b: &Option<Param<Tensor<1>>>, n: usize) -> Vec<f32> {
    b.as_ref().map_or_else(|| vec![0.0; n], |p| to_vec(p.val()))
}

impl FlatParams {
    /// Reads the parameters out of a burn model (burn's `Linear` is `[in, out]`: transposed once here).
    pub fn from_model(m: &LeNet) -> Self {
        Self {
            activation: m.activation.into(),
            conv1_w: to_vec(m.conv1.weight.val()),
            conv1_b: bias(&m.conv1.bias, C1),
            conv2_w: to_vec(m.conv2.weight.val()),
            conv2_b: bias(&m.conv2.bias, C2),
            fc1_w: to_vec(m.fc1.weight.val().transpose()),
            fc1_b: bias(&m.fc1.bias, FC1),
            fc2_w: to_vec(m.fc2.weight.val().transpose()),
            fc2_b: bias(&m.fc2.bias, CLASSES),
        }
    }

    /// Reads the f32 parameters back out of a parsed blob.
    pub fn from_core(m: &lenet_core::F32Model<'_>) -> Self {
        Self {
            activation: m.activation,
            conv1_w: m.conv1_w.to_vec(),
            conv1_b: m.conv1_b.to_vec(),
            conv2_w: m.conv2_w.to_vec(),
            conv2_b: m.conv2_b.to_vec(),
            fc1_w: m.fc1_w.to_vec(),
            fc1_b: m.fc1_b.to_vec(),
            fc2_w: m.fc2_w.to_vec(),
            fc2_b: m.fc2_b.to_vec(),
        }
    }
}

/// Batch of images `[n][784]` (u8 pixels) → conv1's input patches, a `[n, 25, 784]` tensor:
/// `[i][ky * 5 + kx][y * 28 + x]` is image `i`'s pixel at `(y + ky - 2, x + kx - 2)` scaled to
/// `[0, 1]`, or 0 outside the image ("same" padding).
pub fn conv1_patches(pixels: &[u8], device: &Device) -> Tensor<3> {
    const PLANE: usize = IN_H * IN_W;
    let n = pixels.len() / PLANE;
    let scale: [f32; 256] = core::array::from_fn(|p| p as f32 / 255.0);
    let mut data = vec![0.0f32; n * K * K * PLANE];
    for (img, out) in pixels
        .chunks_exact(PLANE)
        .zip(data.chunks_exact_mut(K * K * PLANE))
    {
        for (tap, plane) in out.chunks_exact_mut(PLANE).enumerate() {
            let (ky, kx) = (tap / K, tap % K);
            // Output rows/columns whose source (y + ky - PAD, x + kx - PAD) is inside the image.
            let ys = PAD.saturating_sub(ky)..(IN_H + PAD - ky).min(IN_H);
            let xs = PAD.saturating_sub(kx)..(IN_W + PAD - kx).min(IN_W);
            for y in ys {
                let src = &img[(y + ky - PAD) * IN_W..][..IN_W];
                let dst = &mut plane[y * IN_W..][..IN_W];
                for x in xs.clone() {
                    dst[x] = scale[usize::from(src[x + kx - PAD])];
                }
            }
        }
    }
    Tensor::from_data(TensorData::new(data, [n, K * K, PLANE]), device)
}

/// Runs the model on `pixels` (`[n][784]`) in chunks and returns the `[n][10]` logits.
pub fn logits(model: &LeNet, pixels: &[u8], device: &Device) -> Vec<[f32; CLASSES]> {
    let mut out = Vec::with_capacity(pixels.len() / 784);
    for chunk in pixels.chunks(784 * 1000) {
        let l = to_vec(model.forward(conv1_patches(chunk, device)));
        out.extend(
            l.chunks_exact(CLASSES)
                .map(|c| <[f32; CLASSES]>::try_from(c).expect("10 logits")),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conv1_as_a_matrix_product_equals_burns_convolution() {
        let device = Device::flex();
        let mut net = LeNet::new(Act::Relu, &device);
        net.conv1.bias = Some(
            Initializer::Uniform {
                min: -1.0,
                max: 1.0,
            }
            .init([C1], &device),
        );
        // Ink everywhere, including the borders, so every padding case is exercised.
        let pixels: Vec<u8> = (0..3 * 784).map(|i| (i * 37 % 251) as u8).collect();
        let images: Vec<f32> = pixels.iter().map(|&p| f32::from(p) / 255.0).collect();
        let images = Tensor::<4>::from_data(TensorData::new(images, [3, 1, 28, 28]), &device);
        let want = net.conv1.forward(images).into_data();
        let got = net.conv1(conv1_patches(&pixels, &device)).into_data();
        want.assert_approx_eq::<f32>(&got, burn::tensor::Tolerance::absolute(1e-5));
    }
}
