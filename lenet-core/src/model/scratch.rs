//! The caller-owned buffers of the forward passes.

use crate::shape::{F32_BATCH, FC1, FLAT, IN_LEN, POOL1_LEN};

/// Caller-owned buffers for [`F32Model::forward`](crate::F32Model::forward) (27,480 bytes; 27,484
/// on x86-64 with `std`). After a forward pass they hold the pooled feature maps and the hidden
/// layer, which the quantizer's calibration reads.
#[derive(Debug, Clone)]
pub struct ScratchF32 {
    pub(crate) pool1: [f32; POOL1_LEN],
    pub(crate) pool2: [f32; FLAT],
    pub(crate) fc1: [f32; FC1],
    /// The direction of the x86 fc1 pass's next run over the weight rows (see `F32Buffers`).
    #[cfg(all(feature = "std", target_arch = "x86_64", not(miri)))]
    pub(crate) fc1_reverse: bool,
}

/// Caller-owned buffers for [`F32Model::forward_batch`](crate::F32Model::forward_batch): one
/// [`ScratchF32`] and the pooled conv2 and fc1 outputs of [`F32_BATCH`] images (about 0.4 MB;
/// 0.96 MB on x86-64 with `std`, which adds the batched kernels' interleaved maps). With `std`,
/// `ScratchF32Batch::boxed()` makes one on the heap without a copy on the stack.
#[derive(Debug, Clone)]
pub struct ScratchF32Batch {
    pub(crate) one: ScratchF32,
    pub(crate) pool2: [[f32; FLAT]; F32_BATCH],
    pub(crate) fc1: [[f32; FC1]; F32_BATCH],
    #[cfg(all(feature = "std", target_arch = "x86_64", not(miri)))]
    pub(crate) lanes: x86::Lanes,
}

/// Caller-owned buffers for [`I8Model::forward`](crate::I8Model::forward): 7,654 bytes, the whole
/// RAM the int8 pass needs besides its stack.
#[derive(Debug, Clone)]
pub struct ScratchI8 {
    pub(crate) input: [i8; IN_LEN],
    pub(crate) pool1: [i8; POOL1_LEN],
    pub(crate) pool2: [i8; FLAT],
    pub(crate) fc1: [i8; FC1],
}

macro_rules! scratch_accessors {
    ($name:ident, $t:ty) => {
        impl $name {
            /// The pooled output of conv1 from the last forward pass, CHW `[20][14][14]`.
            pub fn pool1(&self) -> &[$t; POOL1_LEN] {
                &self.pool1
            }

            /// The pooled output of conv2 from the last forward pass, CHW `[50][7][7]`.
            pub fn pool2(&self) -> &[$t; FLAT] {
                &self.pool2
            }

            /// The activated output of fc1 from the last forward pass, `[500]`.
            pub fn fc1(&self) -> &[$t; FC1] {
                &self.fc1
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }
    };
}

impl ScratchF32 {
    /// Zeroed buffers.
    pub const fn new() -> Self {
        Self {
            pool1: [0.0; POOL1_LEN],
            pool2: [0.0; FLAT],
            fc1: [0.0; FC1],
            #[cfg(all(feature = "std", target_arch = "x86_64", not(miri)))]
            fc1_reverse: false,
        }
    }
}

impl ScratchF32Batch {
    /// Zeroed buffers.
    pub const fn new() -> Self {
        Self {
            one: ScratchF32::new(),
            pool2: [[0.0; FLAT]; F32_BATCH],
            fc1: [[0.0; FC1]; F32_BATCH],
            #[cfg(all(feature = "std", target_arch = "x86_64", not(miri)))]
            lanes: x86::Lanes::new(),
        }
    }
}

impl ScratchF32Batch {
    /// The pooled output of conv2 of image `i` of the last group of a batched pass (images
    /// `F32_BATCH·g + i` of the slice, `g` the last group), CHW `[50][7][7]`.
    ///
    /// # Panics
    /// If `i >= F32_BATCH`.
    pub fn pool2(&self, i: usize) -> &[f32; FLAT] {
        &self.pool2[i]
    }

    /// The activated output of fc1 of image `i` of the last group of a batched pass, `[500]`.
    ///
    /// # Panics
    /// If `i >= F32_BATCH`.
    pub fn fc1(&self, i: usize) -> &[f32; FC1] {
        &self.fc1[i]
    }
}

#[cfg(feature = "std")]
impl ScratchF32Batch {
    /// Zeroed buffers on the heap, never built on the stack (a thread's stack may be smaller
    /// than they are, and `Box::new(ScratchF32Batch::new())` can build them there first).
    #[allow(unsafe_code)]
    pub fn boxed() -> std::boxed::Box<Self> {
        // SAFETY: every field is an array of `f32` (through `ScratchF32`), for which all-zero
        // bytes are the valid value `+0.0`, so zeroed memory is an initialised `Self`.
        unsafe { std::boxed::Box::<Self>::new_zeroed().assume_init() }
    }
}

impl Default for ScratchF32Batch {
    fn default() -> Self {
        Self::new()
    }
}

impl ScratchI8 {
    /// Zeroed buffers.
    pub const fn new() -> Self {
        Self {
            input: [0; IN_LEN],
            pool1: [0; POOL1_LEN],
            pool2: [0; FLAT],
            fc1: [0; FC1],
        }
    }
}

scratch_accessors!(ScratchF32, f32);
scratch_accessors!(ScratchI8, i8);

#[cfg(all(feature = "std", target_arch = "x86_64", not(miri)))]
mod x86 {
    use super::{ScratchF32, ScratchF32Batch, ScratchI8};
    use crate::kernels::x86::{F32BatchBuffers, F32Buffers, I8Buffers, LANE_IMAGES};
    use crate::shape::{CONV1_W_LEN, CONV2_W_LEN, FLAT, IN_LEN, POOL1_LEN};

    /// The batched x86 pass's interleaved maps and transposed convolution weights
    /// ([`F32BatchBuffers`]), on 64-byte lines.
    #[derive(Debug, Clone)]
    #[repr(C, align(64))]
    pub(crate) struct Lanes {
        input: [f32; IN_LEN * LANE_IMAGES],
        pool1: [f32; POOL1_LEN * LANE_IMAGES],
        pool2: [f32; FLAT * LANE_IMAGES],
        conv1_wt: [f32; CONV1_W_LEN],
        conv2_wt: [f32; CONV2_W_LEN],
    }

    impl Lanes {
        pub(crate) const fn new() -> Self {
            Self {
                input: [0.0; IN_LEN * LANE_IMAGES],
                pool1: [0.0; POOL1_LEN * LANE_IMAGES],
                pool2: [0.0; FLAT * LANE_IMAGES],
                conv1_wt: [0.0; CONV1_W_LEN],
                conv2_wt: [0.0; CONV2_W_LEN],
            }
        }
    }

    impl ScratchI8 {
        /// The buffers, for an x86 kernel to fill as the portable pass does.
        pub fn x86_buffers(&mut self) -> I8Buffers<'_> {
            I8Buffers {
                input: &mut self.input,
                pool1: &mut self.pool1,
                pool2: &mut self.pool2,
                fc1: &mut self.fc1,
            }
        }
    }

    impl ScratchF32 {
        /// The buffers, for an x86 kernel to fill as the portable pass does.
        pub fn x86_buffers(&mut self) -> F32Buffers<'_> {
            F32Buffers {
                pool1: &mut self.pool1,
                pool2: &mut self.pool2,
                fc1: &mut self.fc1,
                fc1_reverse: &mut self.fc1_reverse,
            }
        }
    }

    impl ScratchF32Batch {
        /// The buffers, for the batched x86 kernel.
        pub fn x86_buffers(&mut self) -> F32BatchBuffers<'_> {
            F32BatchBuffers {
                pool2: &mut self.pool2,
                fc1: &mut self.fc1,
                input_lanes: &mut self.lanes.input,
                pool1_lanes: &mut self.lanes.pool1,
                pool2_lanes: &mut self.lanes.pool2,
                conv1_wt: &mut self.lanes.conv1_wt,
                conv2_wt: &mut self.lanes.conv2_wt,
            }
        }
    }
}
