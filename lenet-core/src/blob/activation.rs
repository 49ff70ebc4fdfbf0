//! The header's activation field.

/// The hidden-layer activation the model was trained with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Activation {
    /// `max(x, 0)`; in int8 folded into the output clamp.
    #[default]
    Relu,
    /// Hyperbolic tangent, as in the 1998 original (f32 only).
    Tanh,
}

impl Activation {
    /// The header code of this activation.
    pub const fn code(self) -> u8 {
        match self {
            Self::Relu => 0,
            Self::Tanh => 1,
        }
    }

    /// The activation for a header code.
    pub const fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(Self::Relu),
            1 => Some(Self::Tanh),
            _ => None,
        }
    }

    /// Its name: `relu` or `tanh`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Relu => "relu",
            Self::Tanh => "tanh",
        }
    }
}
