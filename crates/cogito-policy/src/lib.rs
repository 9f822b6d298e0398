//! Policy files and appraisal.
#![forbid(unsafe_code)]
