//! Pure computation for the margin service. No I/O beyond reading a dataset it is handed.
