//! Expected measurements: the values a policy should expect, computed from
//! the images a guest boots.
#![forbid(unsafe_code)]
