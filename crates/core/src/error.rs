//! Error kinds shared by every layer.

/// Crate-level result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, in the user's terms, with the context needed to act.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A selection or index does not fit the variable's shape.
    #[error(
        "selection {selection} does not fit variable '{variable}' of shape {shape:?}: {reason}"
    )]
    BadSelection {
        /// Variable path.
        variable: String,
        /// The selection as the user wrote it.
        selection: String,
        /// Variable shape.
        shape: Vec<u64>,
        /// Why it does not fit.
        reason: String,
    },
    /// A name (variable, dimension, group) was not found.
    #[error("{kind} '{name}' not found{hint}")]
    NotFound {
        /// What kind of thing: "variable", "dimension", "group".
        kind: &'static str,
        /// The name asked for.
        name: String,
        /// Extra text, for example ": available variables are a, b, c".
        hint: String,
    },
    /// A CF attribute could not be interpreted.
    #[error("CF attribute {attribute} of '{variable}' is not understood: {reason}")]
    Cf {
        /// Variable path.
        variable: String,
        /// Attribute name, such as `units`.
        attribute: String,
        /// What is wrong and what to do.
        reason: String,
    },
    /// A value could not be represented in the requested type.
    #[error("type error: {0}")]
    Type(String),
    /// Anything else with a plain explanation.
    #[error("{0}")]
    Other(String),
}
