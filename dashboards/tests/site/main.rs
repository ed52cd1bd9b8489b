//! End-to-end tests of the dashboard (issue #5): a warehouse generated, ingested and refreshed
//! once per test binary, served on a real port; pages, API and CSV downloads over HTTP, and the
//! pages in headless Chromium; accounts, scoping, uploads and exports (issue #6); the OpenAPI
//! document against the served API routes (issue 14).

mod access;
mod browser;
mod everyday;
mod exports;
mod fixture;
mod hostile;
mod http;
mod openapi;
mod proconnect;
mod reflow;
