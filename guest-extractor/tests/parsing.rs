//! The parser's trees where they depend on which elements are "in scope": the patched
//! html5ever (`patched/html5ever/PATCHED.md`) answers that question in a loop of its own, so
//! the trees the HTML standard gives for such markup are checked here, through dom_query as
//! the extractor parses.

use dom_query::Document;

fn body(html: &str) -> String {
    let doc = Document::from(format!("<!DOCTYPE html>{html}").as_str());
    doc.select("body").html().to_string()
}

#[test]
fn elements_close_or_stay_open_as_their_scope_says() {
    for (html, tree) in [
        // A block closes an open paragraph (button scope)...
        ("<p>a<div>b</div>", "<p>a</p><div>b</div>"),
        // ...but not through a button, which bounds that scope...
        (
            "<p>a<button><div>b</div></button>",
            "<p>a<button><div>b</div></button></p>",
        ),
        // ...nor through a table cell, which bounds every scope.
        (
            "<table><tr><td><p>a<div>b</div></td></tr></table>",
            "<table><tbody><tr><td><p>a</p><div>b</div></td></tr></tbody></table>",
        ),
        (
            "<p>a<table><tr><td><div>b</div></td></tr></table>",
            "<p>a</p><table><tbody><tr><td><div>b</div></td></tr></tbody></table>",
        ),
        // An end tag with no such element in scope: `</p>` makes an empty paragraph, `</div>`
        // is ignored.
        ("<div></p></div>", "<div><p></p></div>"),
        ("<span>a</div>b</span>", "<span>ab</span>"),
        // An end tag closes what is open inside its element.
        (
            "<div><span><i>a</div>b",
            "<div><span><i>a</i></span></div><i>b</i>",
        ),
        // List items close the previous item (list item scope), not one in an outer list.
        (
            "<ul><li>a<li>b<ul><li>c</ul></ul>",
            "<ul><li>a</li><li>b<ul><li>c</li></ul></li></ul>",
        ),
        // Headings close an open paragraph; a heading's end tag closes any heading.
        ("<p>a<h2>b</h3>c", "<p>a</p><h2>b</h2>c"),
        // In SVG, `foreignObject` bounds the scope like a button does.
        (
            "<p>a<svg><foreignObject><div>b</div></foreignObject></svg>",
            "<p>a<svg><foreignObject><div>b</div></foreignObject></svg></p>",
        ),
    ] {
        assert_eq!(body(html), format!("<body>{tree}</body>"), "{html}");
    }
}
