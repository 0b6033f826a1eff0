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
pub type HealthCheck = TypedFunc<(), (bool,)>;
/// `get-info: func() -> extractor-info`.
pub type GetInfo = TypedFunc<(), (wit::ExtractorInfo,)>;
/// `get-modes: func() -> list<string>`.
pub type GetModes = TypedFunc<(), (Vec<String>,)>;

/// The indices of the exports the worker calls, each checked against its signature above.
#[derive(Debug, Clone, Copy)]
pub struct Exports {
    extract_with_stats: ComponentExportIndex,
    extract_for_crawl: ComponentExportIndex,
    health_check: ComponentExportIndex,
    get_info: ComponentExportIndex,
    get_modes: ComponentExportIndex,
}

impl Exports {
    /// Finds the exports in the component of `pre` and type-checks each in `instance`, an
    /// instance of that component.
    pub fn check(
        pre: &InstancePre<StoreState>,
        store: &mut Store<StoreState>,
        instance: &Instance,
    ) -> wasmtime::Result<Self> {
        let index = |name: &str| {
            pre.component()
                .get_export_index(None, name)
                .ok_or_else(|| wasmtime::format_err!("the component has no export `{name}`"))
        };
        let exports = Self {
            extract_with_stats: index("extract-with-stats")?,
            extract_for_crawl: index("extract-for-crawl")?,
            health_check: index("health-check")?,
            get_info: index("get-info")?,
            get_modes: index("get-modes")?,
        };
        let _: ExtractWithStats<'_> = checked(store, instance, exports.extract_with_stats)?;
        let _: ExtractForCrawl<'_> = checked(store, instance, exports.extract_for_crawl)?;
        let _: HealthCheck = checked(store, instance, exports.health_check)?;
        let _: GetInfo = checked(store, instance, exports.get_info)?;
        let _: GetModes = checked(store, instance, exports.get_modes)?;
        Ok(exports)
    }

    pub fn extract_with_stats<'a>(
        &self,
        store: &mut Store<StoreState>,
        instance: &Instance,
    ) -> wasmtime::Result<ExtractWithStats<'a>> {
        // SAFETY: `check` type-checked this export against `ExtractWithStats`.
        unsafe { unchecked(store, instance, self.extract_with_stats) }
    }

    pub fn extract_for_crawl<'a>(
        &self,
        store: &mut Store<StoreState>,
        instance: &Instance,
    ) -> wasmtime::Result<ExtractForCrawl<'a>> {
        // SAFETY: `check` type-checked this export against `ExtractForCrawl`.
        unsafe { unchecked(store, instance, self.extract_for_crawl) }
    }

    pub fn health_check(
        &self,
        store: &mut Store<StoreState>,
        instance: &Instance,
    ) -> wasmtime::Result<HealthCheck> {
        // SAFETY: `check` type-checked this export against `HealthCheck`.
        unsafe { unchecked(store, instance, self.health_check) }
    }

    pub fn get_info(
        &self,
        store: &mut Store<StoreState>,
        instance: &Instance,
    ) -> wasmtime::Result<GetInfo> {
        // SAFETY: `check` type-checked this export against `GetInfo`.
        unsafe { unchecked(store, instance, self.get_info) }
    }

    pub fn get_modes(
        &self,
        store: &mut Store<StoreState>,
        instance: &Instance,
    ) -> wasmtime::Result<GetModes> {
        // SAFETY: `check` type-checked this export against `GetModes`.
        unsafe { unchecked(store, instance, self.get_modes) }
    }
}

fn checked<P, R>(
    store: &mut Store<StoreState>,
    instance: &Instance,
    index: ComponentExportIndex,
) -> wasmtime::Result<TypedFunc<P, R>>
where
    P: wasmtime::component::ComponentNamedList + wasmtime::component::Lower,
    R: wasmtime::component::ComponentNamedList + wasmtime::component::Lift,
{
    instance.get_typed_func(store, index)
}

/// The export at `index` of `instance` as a `TypedFunc<P, R>`, without a type check.
///
/// # Safety
/// `index` must have passed [`checked`] with the same `P` and `R` on an instance of the
/// same component.
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
