use std::fmt;

use bit_set::BitSet;
use cssparser::{CowRcStr, ParseError, ToCss};
use html5ever::{Namespace, ns};
use selectors::attr::{AttrSelectorOperation, NamespaceConstraint};
use selectors::context::SelectorCaches;
use selectors::parser::{self, Component, LocalName, SelectorList, SelectorParseErrorKind};
use selectors::{Element, context, matching};

use crate::Tree;
use crate::css::{CssLocalName, CssString};
use crate::node::{DescendantNodes, NodeData, NodeRef, TreeNode};
/// CSS selector.
#[derive(Clone, Debug)]
pub struct Matcher {
    selector_list: SelectorList<InnerSelector>,
    // Patched for RipTide (see PATCHED.md): set when every selector in the list requires of
    // the element it selects a name or an attribute, so an element that meets none of them
    // cannot match and is turned away before the full matcher runs
    requirements: Option<Vec<Requirement>>,
    // whether every selector is a bare type selector (`p`, `ul,ol`), so an element matches
    // iff it has one of the names `requirements` lists
    names_decide: bool,
}

/// What an element must have for one selector of a list to select it.
#[derive(Clone, Debug)]
enum Requirement {
    /// The type the selector names (`p`, `a[href]`, `ul > li`).
    Name(LocalName<InnerSelector>),
    /// An attribute of this local name, in either spelling: one the selector tests
    /// (`[rel="author"]`, `*[class]`), `id` for `#id`, `class` for `.class`.
    Attribute(CssLocalName, CssLocalName),
}

impl Requirement {
    /// Whether `element` meets it, as the `selectors` crate would ask.
    fn met_by<E>(&self, element: &E) -> bool
    where
        E: Element<Impl = InnerSelector>,
    {
        match self {
            Self::Name(n) => {
                element.has_local_name(matching::select_name(element, &n.name, &n.lower_name))
            }
            Self::Attribute(name, lower_name) => [name, lower_name].into_iter().any(|name| {
                element.attr_matches(
                    &NamespaceConstraint::Any,
                    name,
                    &AttrSelectorOperation::Exists,
                )
            }),
        }
    }

    /// Whether the element `el` meets it, read straight from the tree node.
    fn met_by_element(&self, el: &crate::node::Element) -> bool {
        match self {
            Self::Name(n) => {
                // the same rule as `selectors::matching::select_name`
                let name = if el.name.ns == ns!(html) || n.name == n.lower_name {
                    &n.lower_name
                } else {
                    &n.name
                };
                el.name.local == **name
            }
            Self::Attribute(name, lower_name) => el
                .attrs
                .iter()
                .any(|attr| attr.name.local == name.0 || attr.name.local == lower_name.0),
        }
    }
}

impl Matcher {
    /// creates a new CSS matcher.
    ///
    /// # Errors
    /// - [`cssparser::ParseError`] if the selector string is invalid.
    pub fn new(sel: &str) -> Result<Self, ParseError<SelectorParseErrorKind>> {
        let mut parser = cssparser::Parser::new(sel);
        selectors::parser::SelectorList::parse(
            &InnerSelectorParser,
            &mut parser,
            parser::ParseRelative::No,
        )
        .map(|selector_list| Self {
            requirements: selector_list.slice().iter().map(requirement).collect(),
            names_decide: is_type_selector_list(&selector_list),
            selector_list,
        })
    }

    /// Checks if an element matches Matcher's selection.
    pub fn match_element<E>(&self, element: &E) -> bool
    where
        E: Element<Impl = InnerSelector>,
    {
        let mut caches = context::SelectorCaches::default();
        self.match_element_with_caches(element, &mut caches)
    }

    /// Checks if an element matches Matcher's selection.
    pub fn match_element_with_caches<E>(&self, element: &E, caches: &mut SelectorCaches) -> bool
    where
        E: Element<Impl = InnerSelector>,
    {
        if let Some(requirements) = &self.requirements {
            let met = requirements.iter().any(|r| r.met_by(element));
            if self.names_decide || !met {
                return met;
            }
        }
        let mut ctx = get_matching_context(caches);
        matching::matches_selector_list(&self.selector_list, element, &mut ctx)
    }

    /// The fast path on a tree node: `None` when the element needs the full matcher.
    fn match_tree_node(&self, node: &TreeNode) -> Option<bool> {
        let requirements = self.requirements.as_ref()?;
        let NodeData::Element(el) = &node.data else {
            return Some(false);
        };
        Some(requirements.iter().any(|r| r.met_by_element(el)))
            .filter(|&met| self.names_decide || !met)
    }
}

/// What `selector` requires of the element it selects, `None` when it may select any
/// element. The components of a selector are stored in matching order: the selected
/// element's compound first, up to the first combinator. A name is preferred, being the
/// cheaper test and the rarer.
fn requirement(selector: &parser::Selector<InnerSelector>) -> Option<Requirement> {
    let subject = || {
        selector
            .iter_raw_match_order()
            .take_while(|component| !matches!(component, Component::Combinator(_)))
    };
    let attribute = |name: html5ever::LocalName| {
        Requirement::Attribute(CssLocalName(name.clone()), CssLocalName(name))
    };
    subject()
        .find_map(|component| match component {
            Component::LocalName(name) => Some(Requirement::Name(name.clone())),
            _ => None,
        })
        .or_else(|| {
            subject().find_map(|component| match component {
                Component::AttributeInNoNamespaceExists {
                    local_name,
                    local_name_lower,
                } => Some(Requirement::Attribute(
                    local_name.clone(),
                    local_name_lower.clone(),
                )),
                Component::AttributeInNoNamespace { local_name, .. } => Some(
                    Requirement::Attribute(local_name.clone(), local_name.clone()),
                ),
                Component::ID(_) => Some(attribute(html5ever::local_name!("id"))),
                Component::Class(_) => Some(attribute(html5ever::local_name!("class"))),
                _ => None,
            })
        })
}

/// Whether every selector of the list is a bare type selector (`p`, `ul,ol`).
fn is_type_selector_list(list: &SelectorList<InnerSelector>) -> bool {
    list.slice().iter().all(|selector| {
        matches!(
            selector.iter_raw_match_order().as_slice(),
            [Component::LocalName(_)]
        )
    })
}

pub struct DescendantMatches<'a, 'b> {
    iter: DescendantNodes<'a>,
    matcher: &'b Matcher,
    caches: SelectorCaches,
    tree: &'a Tree,
}

impl<'a, 'b> DescendantMatches<'a, 'b> {
    pub fn new(root_node: NodeRef<'a>, matcher: &'b Matcher) -> Self {
        // Optimized for single-root node scenario - no duplicate checking needed
        let tree = root_node.tree;
        Self {
            iter: tree.descendant_ids_of_it(&root_node.id),
            matcher,
            caches: SelectorCaches::default(),
            tree,
        }
    }
}

impl<'a> Iterator for DescendantMatches<'a, '_> {
    type Item = NodeRef<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        while let Some(node_id) = self.iter.next() {
            let Some(tree_node) = self.iter.node(node_id) else {
                continue;
            };
            let node = NodeRef::new(node_id, self.tree);
            let matched = self.matcher.match_tree_node(tree_node).unwrap_or_else(|| {
                tree_node.is_element()
                    && self
                        .matcher
                        .match_element_with_caches(&node, &mut self.caches)
            });
            if matched {
                return Some(node);
            }
        }
        None
    }
}

pub struct Matches<'a, 'b> {
    nodes: Vec<NodeRef<'a>>,
    matcher: &'b Matcher,
    seen: BitSet,
    caches: SelectorCaches,
}

impl<'a, 'b> Matches<'a, 'b> {
    pub fn new<I: Iterator<Item = NodeRef<'a>>>(root_nodes: I, matcher: &'b Matcher) -> Self {
        // Used for multiple root nodes where duplicate checking is necessary
        let nodes: Vec<NodeRef<'a>> = root_nodes
            .flat_map(|node| node.children_it(true).filter(|n| n.is_element()))
            .collect();
        // every visited node is marked, so size the set for the whole tree once
        let tree_len = nodes.first().map_or(0, |n| n.tree.len() + 1);

        Self {
            nodes,
            matcher,
            seen: BitSet::with_capacity(tree_len),
            caches: SelectorCaches::default(),
        }
    }
}

impl<'a> Iterator for Matches<'a, '_> {
    type Item = NodeRef<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        while let Some(node) = self.nodes.pop() {
            // a node reached again through a nested root was already visited with its subtree
            if !self.seen.insert(node.id.value()) {
                continue;
            }
            self.nodes
                .extend(node.children_it(true).filter(|n| n.is_element()));

            if self
                .matcher
                .match_element_with_caches(&node, &mut self.caches)
            {
                return Some(node);
            }
        }
        None
    }
}

pub(crate) struct InnerSelectorParser;

impl<'i> parser::Parser<'i> for InnerSelectorParser {
    type Impl = InnerSelector;
    type Error = parser::SelectorParseErrorKind;

    fn parse_is_and_where(&self) -> bool {
        true
    }

    fn parse_has(&self) -> bool {
        true
    }

    fn parse_non_ts_pseudo_class(
        &self,
        name: CowRcStr<'i>,
    ) -> Result<NonTSPseudoClass, ParseError<Self::Error>> {
        if name.eq_ignore_ascii_case("any-link") {
            Ok(NonTSPseudoClass::AnyLink)
        } else if name.eq_ignore_ascii_case("link") {
            Ok(NonTSPseudoClass::Link)
        } else if name.eq_ignore_ascii_case("visited") {
            Ok(NonTSPseudoClass::Visited)
        } else if name.eq_ignore_ascii_case("active") {
            Ok(NonTSPseudoClass::Active)
        } else if name.eq_ignore_ascii_case("focus") {
            Ok(NonTSPseudoClass::Focus)
        } else if name.eq_ignore_ascii_case("hover") {
            Ok(NonTSPseudoClass::Hover)
        } else if name.eq_ignore_ascii_case("enabled") {
            Ok(NonTSPseudoClass::Enabled)
        } else if name.eq_ignore_ascii_case("disabled") {
            Ok(NonTSPseudoClass::Disabled)
        } else if name.eq_ignore_ascii_case("checked") {
            Ok(NonTSPseudoClass::Checked)
        } else if name.eq_ignore_ascii_case("indeterminate") {
            Ok(NonTSPseudoClass::Indeterminate)
        } else if name.eq_ignore_ascii_case("only-text") {
            Ok(NonTSPseudoClass::OnlyText)
        } else {
            Err(ParseError::custom(
                SelectorParseErrorKind::UnsupportedPseudoClassOrElement,
            ))
        }
    }

    fn parse_non_ts_functional_pseudo_class(
        &self,
        name: CowRcStr<'i>,
        parser: &mut cssparser::Parser<'i>,
        _after_part: bool,
    ) -> Result<<Self::Impl as parser::SelectorImpl>::NonTSPseudoClass, ParseError<Self::Error>>
    {
        if name.eq_ignore_ascii_case("has-text") {
            let s = parser.expect_string()?.as_ref();
            Ok(NonTSPseudoClass::HasText(CssString::from(s)))
        } else if name.eq_ignore_ascii_case("contains") {
            {
                let s = parser.expect_string()?.as_ref();
                Ok(NonTSPseudoClass::Contains(CssString::from(s)))
            }
        } else {
            Err(ParseError::custom(
                SelectorParseErrorKind::UnsupportedPseudoClassOrElement,
            ))
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InnerSelector;

impl parser::SelectorImpl for InnerSelector {
    type ExtraMatchingData<'a> = ();
    type AttrValue = CssString;
    type Identifier = CssLocalName;
    type LocalName = CssLocalName;
    type NamespaceUrl = Namespace;
    type NamespacePrefix = CssLocalName;
    type BorrowedLocalName = CssLocalName;
    type BorrowedNamespaceUrl = Namespace;

    type NonTSPseudoClass = NonTSPseudoClass;
    type PseudoElement = PseudoElement;
}

/// Non-tree-structural pseudo-classes.
#[derive(PartialEq, Eq, Clone, Debug)]
pub enum NonTSPseudoClass {
    /// `:any-link` means one of the a, area, or link elements that has an href attribute.
    AnyLink,
    /// `:link` means same as `:any-link`
    Link,
    Visited,
    Active,
    Focus,
    Hover,
    Enabled,
    Disabled,
    Checked,
    Indeterminate,
    /// `:only-text` pseudo-class allows selecting a node with no child elements except a single **text** child node.
    OnlyText,
    /// `:has-text` pseudo-class represents a selection for the element or one of its descendant element that contains the specified text.
    HasText(CssString),
    /// `:contains` pseudo-class represents a selection for the element that contains the specified text (it's own text and text of all his descendant elements).
    Contains(CssString),
}

impl ToCss for NonTSPseudoClass {
    fn to_css<W>(&self, dest: &mut W) -> fmt::Result
    where
        W: fmt::Write,
    {
        match self {
            Self::AnyLink => dest.write_str(":any-link"),
            Self::Link => dest.write_str(":link"),
            Self::Visited => dest.write_str(":visited"),
            Self::Active => dest.write_str(":active"),
            Self::Focus => dest.write_str(":focus"),
            Self::Hover => dest.write_str(":hover"),
            Self::Enabled => dest.write_str(":enabled"),
            Self::Disabled => dest.write_str(":disabled"),
            Self::Checked => dest.write_str(":checked"),
            Self::Indeterminate => dest.write_str(":indeterminate"),
            Self::OnlyText => dest.write_str(":only-text"),
            Self::HasText(s) => {
                dest.write_str(":has-text(")?;
                s.to_css(dest)?;
                dest.write_str(")")
            }
            Self::Contains(s) => {
                dest.write_str(":contains(")?;
                s.to_css(dest)?;
                dest.write_str(")")
            }
        }
    }
}

impl parser::NonTSPseudoClass for NonTSPseudoClass {
    fn is_active_or_hover(&self) -> bool {
        false
    }

    fn is_user_action_state(&self) -> bool {
        false
    }
}

#[derive(Clone, Eq, PartialEq, Debug)]
pub struct PseudoElement;

impl ToCss for PseudoElement {
    fn to_css<W>(&self, dest: &mut W) -> fmt::Result
    where
        W: fmt::Write,
    {
        dest.write_str("")
    }
}

impl parser::PseudoElement for PseudoElement {
    fn accepts_state_pseudo_classes(&self) -> bool {
        false
    }

    fn valid_after_slotted(&self) -> bool {
        false
    }
}

fn get_matching_context(
    caches: &mut context::SelectorCaches,
) -> matching::MatchingContext<'_, InnerSelector> {
    matching::MatchingContext::new(
        matching::MatchingMode::Normal,
        None,
        caches,
        matching::QuirksMode::NoQuirks,
        matching::NeedsSelectorFlags::No,
        context::MatchingForInvalidation::No,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Document, NodeId};

    #[test]
    fn requirement_fast_path_agrees_with_the_selectors_crate() {
        let doc = Document::from(
            r##"<html lang="en"><head><title>t</title><link rel="author" href="/me"></head><body>
            <dialog>d</dialog><div aria-modal="true" role="dialog">m</div><div aria-modal="true">n</div>
            <span itemprop="author name" data-x>a</span><svg viewBox="0 0 1 1"><a xlink:href="#s">s</a></svg>
            <div class="a"><p id="x">t<a href="#">l</a><a>bare</a></p><UL><li>1</li><li>2</li></UL>
            <svg><foreignObject><p>f</p></foreignObject><circle/><html lang="x"></html></svg>
            <TABLE><tr><td>c</td><Td>d</Td></tr></TABLE><div><td>loose</td></div><img><iframe></iframe>
            <noscript><img src="n"></noscript><section></section><div> </div></div><p>outside</p>
            </body></html>"##,
        );
        let selectors = [
            "p",
            "P",
            "ul,ol",
            "img,object,embed,iframe",
            "circle",
            "foreignObject",
            "FOREIGNOBJECT",
            "svg, circle",
            "*",
            "p.a",
            "div p",
            "p:first-child",
            "div, p.a",
            ":not(p)",
            "a:not([href])",
            r##"a[href]:not([href^="#"]):not([href^="http"])"##,
            "*:not(tr) > td",
            "noscript:has(img:only-child)",
            "head title",
            "html[lang]",
            "HTML[lang]",
            ":is(div, section):empty",
            "div:empty, section:empty",
            "svg circle, foreignObject > p",
            "FOREIGNOBJECT > P",
            "p, *[class]",
            "li:first-child, td + td",
            r#"dialog,[aria-modal="true"][role="dialog"]"#,
            "*[class],*[id]",
            r#"[rel="author"],[itemprop*="author"]"#,
            "#x",
            ".a, #x",
            "[HREF]",
            "[viewBox], [viewbox]",
            "svg a[*|href], [*|href]",
            "p, [data-x]",
        ];
        for sel in selectors {
            let fast = Matcher::new(sel).unwrap();
            let slow = Matcher {
                selector_list: fast.selector_list.clone(),
                requirements: None,
                names_decide: false,
            };
            let mut caches = SelectorCaches::default();
            let walked: Vec<NodeId> = DescendantMatches::new(doc.root(), &fast)
                .map(|n| n.id)
                .collect();
            let expected: Vec<NodeId> = DescendantMatches::new(doc.root(), &slow)
                .map(|n| n.id)
                .collect();
            assert_eq!(walked, expected, "{sel}");
            // the full matcher must only ever see elements: text nodes would match `:not(p)`
            assert!(
                DescendantMatches::new(doc.root(), &slow).all(|n| n.is_element()),
                "{sel}"
            );
            for node in doc.root().descendants_it().filter(NodeRef::is_element) {
                assert_eq!(
                    fast.match_element_with_caches(&node, &mut caches),
                    slow.match_element_with_caches(&node, &mut caches),
                    "{sel} on {:?}",
                    node.node_name()
                );
            }
        }
        for sel in ["p", "ul,ol", "foreignObject", "svg, circle"] {
            let matcher = Matcher::new(sel).unwrap();
            assert!(
                matcher.requirements.is_some() && matcher.names_decide,
                "{sel}"
            );
        }
        for sel in [
            "p.a",
            "div p",
            "p:first-child",
            "a:not([href])",
            "*:not(tr) > td",
            "#x",
            "div, .a",
            "*[class],*[id]",
        ] {
            let matcher = Matcher::new(sel).unwrap();
            assert!(
                matcher.requirements.is_some() && !matcher.names_decide,
                "{sel}"
            );
        }
        for sel in [
            "*",
            "p *",
            ":is(div, section)",
            "td > *",
            ":not([href])",
            "p, :empty",
        ] {
            assert!(Matcher::new(sel).unwrap().requirements.is_none(), "{sel}");
        }
    }
}
