//! File formats that carry codec streams: the container of each framed codec whose raw stream
//! has no natural file form.

pub mod ilbc_file;
