//! The component's exports, found and type-checked once when the component loads.
//!
//! The generated bindings look up and type-check every export of the world on each
//! instantiation; with a fresh instance per page that check is paid per page, for exports
//! the page never calls. Here each export's index and signature are checked once, against
//! one instance of the loaded component, and each page takes just the export it calls from
//! its own instance by index.

use wasmtime::component::{ComponentExportIndex, Instance, InstancePre, TypedFunc};
use wasmtime::Store;

use super::bindings as wit;
use super::StoreState;

/// `extract-with-stats: func(html, url, mode) -> result<tuple<content, stats>, error>`.
pub type ExtractWithStats<'a> = TypedFunc<
    (&'a str, &'a str, &'a wit::ExtractionMode),
    (Result<(wit::ExtractedContent, wit::ExtractionStats), wit::ExtractionError>,),
>;
/// `extract-for-crawl: func(html, url, mode) -> result<tuple<content, stats, links>, error>`.
pub type ExtractForCrawl<'a> = TypedFunc<
    (&'a str, &'a str, &'a wit::ExtractionMode),
    (Result<(wit::ExtractedContent, wit::ExtractionStats, wit::PageLinks), wit::ExtractionError>,),
>;
/// `health-check: func() -> bool`.
pub type HealthCheck<'a> = TypedFunc<(), (bool,)>;
/// `get-info: func() -> extractor-info`.
pub type GetInfo<'a> = TypedFunc<(), (wit::ExtractorInfo,)>;
/// `get-modes: func() -> list<string>`.
pub type GetModes<'a> = TypedFunc<(), (Vec<String>,)>;

/// The exports the worker calls, each given once with its WIT name and signature: the
/// struct of their indices, the check at load and the per-page getters all come from it.
macro_rules! exports {
    ($($field:ident: $name:literal => $signature:ident),* $(,)?) => {
        /// The indices of the exports the worker calls, each checked against its signature.
        #[derive(Debug, Clone, Copy)]
        pub struct Exports {
            $($field: ComponentExportIndex,)*
        }

        impl Exports {
            /// Finds the exports in the component of `pre` and type-checks each in
            /// `instance`, an instance of that component.
            pub fn check(
                pre: &InstancePre<StoreState>,
                store: &mut Store<StoreState>,
                instance: &Instance,
            ) -> wasmtime::Result<Self> {
                let index = |name: &str| {
                    pre.component().get_export_index(None, name).ok_or_else(|| {
                        wasmtime::format_err!("the component has no export `{name}`")
                    })
                };
                let exports = Self {
                    $($field: index($name)?,)*
                };
                $(let _: $signature<'_> = instance.get_typed_func(&mut *store, exports.$field)?;)*
                Ok(exports)
            }

            $(
                pub fn $field<'a>(
                    &self,
                    store: &mut Store<StoreState>,
                    instance: &Instance,
                ) -> wasmtime::Result<$signature<'a>> {
                    // SAFETY: `check` type-checked this export against this signature.
                    unsafe { unchecked(store, instance, self.$field) }
                }
            )*
        }
    };
}

exports! {
    extract_with_stats: "extract-with-stats" => ExtractWithStats,
    extract_for_crawl: "extract-for-crawl" => ExtractForCrawl,
    health_check: "health-check" => HealthCheck,
    get_info: "get-info" => GetInfo,
    get_modes: "get-modes" => GetModes,
}

/// The export at `index` of `instance` as a `TypedFunc<P, R>`, without a type check.
///
/// # Safety
/// `index` must have passed `Instance::get_typed_func` with the same `P` and `R` on an
/// instance of the same component (as `Exports::check` does).
unsafe fn unchecked<P, R>(
    store: &mut Store<StoreState>,
    instance: &Instance,
    index: ComponentExportIndex,
) -> wasmtime::Result<TypedFunc<P, R>>
where
    P: wasmtime::component::ComponentNamedList + wasmtime::component::Lower,
    R: wasmtime::component::ComponentNamedList + wasmtime::component::Lift,
{
    let func = instance
        .get_func(store, index)
        .ok_or_else(|| wasmtime::format_err!("the instance lacks a checked export"))?;
    // SAFETY: the caller guarantees the type check of this export of this component.
    Ok(unsafe { TypedFunc::new_unchecked(func) })
}
