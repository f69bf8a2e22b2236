//! CF-convention semantics: time units and calendars, packing, fill values,
//! flags, grid mappings and bounds.
