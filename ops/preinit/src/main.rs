//! `riptide-preinit IN OUT`: runs the guest core module's `wizer-initialize` export once and
//! writes the module with the memory it left behind as its initial memory (Wizer).
//!
//! Every page gets a fresh instance, so whatever the guest builds lazily on first use (the
//! content-name automaton, dom_smoothie's CSS selectors, whatlang's alphabet tables) it used
//! to build again for every page; natively each is built once per process. Pre-initialized,
//! each instance starts from the copy-on-write image with them built. `ops/wasm-ld-opt.sh`
//! runs this on the linked core module, before `wasm-component-ld` makes it a component.

use std::path::PathBuf;

use anyhow::{anyhow, bail, Context, Result};
use wasmtime::{Engine, Instance, Store};
use wasmtime_wizer::Wizer;

fn main() -> Result<()> {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [input, output] = args.as_slice() else {
        bail!("usage: riptide-preinit IN.wasm OUT.wasm");
    };
    let wasm = std::fs::read(input).with_context(|| format!("reading {}", input.display()))?;
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let initialized =
        pollster::block_on(Wizer::new().run(&mut store, &wasm, async |store, module| {
            Instance::new_async(store, module, &[]).await
        }))
        .map_err(|e| anyhow!("pre-initializing {}: {e:?}", input.display()))?;
    std::fs::write(output, initialized).with_context(|| format!("writing {}", output.display()))?;
    Ok(())
}
