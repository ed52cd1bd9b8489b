//! End-to-end tests of the dashboard (issue #5): a warehouse generated, ingested and refreshed
//! once per test binary, served on a real port; pages, API and CSV downloads over HTTP, and the
//! pages in headless Chromium.

mod browser;
mod fixture;
mod http;
