//! Exports (issue #6): stub.
