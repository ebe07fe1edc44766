//! Brings the pinned front-end packages into the binary: htmx comes from the
//! npm package `htmx.org` at the version pinned in package-lock.json, never
//! from a copy committed to git. When `node_modules` lacks it (a fresh
//! clone), the build runs `npm ci` once; without npm it stops with a message
//! saying what to run.

use std::path::{Path, PathBuf};
use std::process::Command;

const HTMX: &str = "node_modules/htmx.org/dist/htmx.min.js";

fn main() {
    println!("cargo:rerun-if-changed=package-lock.json");
    println!("cargo:rerun-if-changed={HTMX}");
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let htmx = root.join(HTMX);
    if !htmx.exists() {
        npm_ci(&root);
    }
    if !htmx.exists() {
        panic!(
            "{} is missing: run `npm ci` in {} (Node.js and npm are needed to build Shipshape)",
            HTMX,
            root.display()
        );
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("htmx.min.js");
    let bytes = std::fs::read(&htmx).expect("read htmx.min.js");
    // `npm ci` rewrites node_modules on every test run: an unchanged file is
    // left alone so the crate is not recompiled for nothing.
    if std::fs::read(&out).ok().as_deref() != Some(bytes.as_slice()) {
        std::fs::write(&out, bytes).expect("copy htmx.min.js into OUT_DIR");
    }
}

fn npm_ci(root: &Path) {
    println!("cargo:warning=node_modules is missing; running `npm ci` for the pinned htmx.org");
    match Command::new("npm").args(["ci", "--no-audit", "--no-fund", "--loglevel=error"]).current_dir(root).status() {
        Ok(s) if s.success() => {}
        Ok(s) => println!("cargo:warning=`npm ci` failed ({s})"),
        Err(e) => println!("cargo:warning=cannot run npm: {e}"),
    }
}
