//! The caller-owned buffers of the forward passes.

use crate::shape::{FC1, FLAT, IN_LEN, POOL1_LEN};

/// Caller-owned buffers for [`F32Model::forward`](crate::F32Model::forward) (30,616 bytes). After
/// a forward pass they hold the pooled feature maps and the hidden layer, which the quantizer's
/// calibration reads.
#[derive(Debug, Clone)]
pub struct ScratchF32 {
    pub(crate) pool1: [f32; POOL1_LEN],
    pub(crate) pool2: [f32; FLAT],
    pub(crate) fc1: [f32; FC1],
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
        }
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
    use super::{ScratchF32, ScratchI8};
    use crate::kernels::x86::{F32Buffers, I8Buffers};

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
            }
        }
    }
}
