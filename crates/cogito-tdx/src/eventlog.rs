//! CC event log (CCEL) parsing and RTMR replay. (Being written.)
