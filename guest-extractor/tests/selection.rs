//! Main-content selection on pages that are not news articles: the block the page's markup
//! names beats a prose-like box beside it, the lead is kept, and the furniture around the
//! content (pointers to other stories, the labels of removed boxes, legal lines) is not.

use riptide_extractor::{extract, ExtractionMode};

fn article_text(html: &str) -> String {
    extract(html, "https://shop.example/p/1", &ExtractionMode::Article)
        .unwrap()
        .text
}

const BIO: &str = "Anna has written about food and travel for twenty years. She grew up on a farm \
    in the south, trained as a pastry cook in Lyon and worked in restaurants in three countries \
    before she started writing. Her books have been translated into nine languages, and she \
    teaches a summer course on regional baking every year.";

/// A recipe: ingredients and steps in lists, and the author's bio, in a paragraph, beside it.
fn recipe_page() -> String {
    let ingredients: String = [
        "500 g flour",
        "250 ml warm milk",
        "80 g butter, melted",
        "1 packet dry yeast",
        "2 eggs",
        "100 g sliced almonds",
        "3 tablespoons honey",
    ]
    .iter()
    .map(|i| format!("<li>{i}</li>"))
    .collect();
    let steps: String = [
        "Mix the flour with the yeast and a pinch of salt in a large bowl.",
        "Add the warm milk, the eggs and the melted butter and knead for ten minutes.",
        "Cover the dough and let it rise in a warm place for one hour.",
        "Divide the dough into twelve pieces and press each into a muffin tin.",
        "Warm the honey with the almonds and spread the mixture over the dough.",
        "Bake at 180 degrees for twenty minutes, until the tops are golden brown.",
        "Let the muffins cool in the tin for ten minutes before you take them out.",
    ]
    .iter()
    .map(|s| format!("<li>{s}</li>"))
    .collect();
    format!(
        r#"<html><head><title>Almond honey muffins</title></head><body>
        <nav><a href="/">Home</a> <a href="/recipes">Recipes</a></nav>
        <div class="columns">
          <div class="column-wide"><div class="entry-content">
            <h1>Almond honey muffins</h1>
            <h2>Ingredients</h2><ul>{ingredients}</ul>
            <h2>Preparation</h2><ol>{steps}</ol>
          </div></div>
          <div class="column-narrow"><div class="about-box"><p>{BIO}</p></div></div>
        </div>
        <footer><p>Imprint</p></footer>
        </body></html>"#
    )
}

#[test]
fn a_recipe_in_lists_is_chosen_over_a_prose_bio_beside_it() {
    let text = article_text(&recipe_page());
    assert!(text.contains("1 packet dry yeast"), "{text}");
    assert!(
        text.contains("Bake at 180 degrees for twenty minutes"),
        "{text}"
    );
    assert!(!text.contains("trained as a pastry cook"), "{text}");
}

const PARAGRAPH: &str = "The council met on Tuesday evening to discuss the new bus lines that \
    will connect the northern districts with the station. Residents had asked for a direct \
    connection for years, and the transport company has now agreed to run a trial for six \
    months, with buses every twenty minutes during the day and every hour at night.";

fn news_page(header: &str, tail: &str) -> String {
    format!(
        r#"<html><head><title>New bus lines</title>
        <meta name="description" content="The city will test two new bus lines to the northern districts from March, the council decided on Tuesday.">
        </head><body>
        <div class="page"><header class="article-header"><h1>New bus lines</h1>{header}</header>
        <div class="article-text">
          <p>{PARAGRAPH}</p><p>{PARAGRAPH}</p><p>{PARAGRAPH}</p><p>{PARAGRAPH}</p>
          <p><a href="/other">Mayor opens the new swimming pool in the old harbour district</a></p>
          <p>{PARAGRAPH}</p>
          {tail}
        </div></div>
        </body></html>"#
    )
}

#[test]
fn the_lead_that_repeats_the_description_is_kept_before_the_text() {
    let lead = "The city will test two new bus lines to the northern districts from March, the council decided on Tuesday.";
    let text = article_text(&news_page(&format!(r#"<p class="intro">{lead}</p>"#), ""));
    assert!(text.starts_with(lead), "{text}");
    assert_eq!(text.matches(lead).count(), 1, "once: {text}");
    assert!(text.contains("buses every twenty minutes"));
}

#[test]
fn a_subtitle_in_a_heading_is_not_taken_for_the_lead() {
    let dek = "The city will test two new bus lines to the northern districts from March, the council decided on Tuesday.";
    let text = article_text(&news_page(&format!("<h2>{dek}</h2>"), ""));
    assert!(!text.contains(dek), "{text}");
    assert!(text.contains("buses every twenty minutes"));
}

#[test]
fn pointers_to_other_stories_and_labels_of_removed_boxes_are_left_out() {
    let tail = r#"<p>© 2024 Example Media. All rights reserved.</p>
        <p>War der Artikel nützlich?</p><p>Źródło: PAP</p><p>Valora esta noticia</p>
        <h3>Mehr zum Thema</h3>
        <ul><li><a href="/a">Tram strike ends after two days</a></li><li><a href="/b">New cycle lanes on the ring road</a></li></ul>"#;
    let text = article_text(&news_page("", tail));
    assert!(text.contains("buses every twenty minutes"), "{text}");
    for furniture in [
        "Mayor opens the new swimming pool",
        "Mehr zum Thema",
        "All rights reserved",
        "Tram strike ends",
        "War der Artikel",
        "Źródło",
        "Valora esta",
    ] {
        assert!(!text.contains(furniture), "`{furniture}` in {text}");
    }
}

/// A shop page: the product's description inside the product form (quantity, add to cart),
/// and the shop's short "about" line beside it, which reads like prose.
fn product_page() -> String {
    String::from(
        r#"<html><head><title>Cat blanket</title></head><body>
        <article class="produkte"><div class="entry-content">
          <form class="productform" method="post" action="/cart">
            <h1>Cat blanket, two layers, with a name</h1>
            <div class="description"><p>A soft blanket for dogs and cats, in two layers of
            fleece, with your pet's name embroidered in one corner. Machine washable at 30
            degrees, 100 by 70 centimetres, sewn by hand in our workshop.</p>
            <p>Delivery time: 15 to 21 days, as every blanket is made to order for you.</p></div>
            <input type="number" name="quantity" value="1"><button>Add to cart</button>
          </form>
        </div></article>
        <div class="about-box"><p>Giving with love can be this simple: I sew and embroider
        presents with a heart for almost every occasion, for small, tall and four-legged
        individualists.</p></div>
        </body></html>"#,
    )
}

#[test]
fn a_description_inside_a_product_form_is_the_content() {
    let text = article_text(&product_page());
    assert!(text.contains("fleece, with your pet's name"), "{text}");
    assert!(text.contains("Delivery time: 15 to 21 days"), "{text}");
    assert!(!text.contains("Add to cart"), "{text}");
}

#[test]
fn a_sign_up_form_is_not_taken_for_the_content() {
    let labels: String = [
        "Your e-mail address (required)",
        "First name",
        "Last name",
        "Postcode (required)",
        "Country (required)",
        "Receive our monthly letter and the calls to action, at most two or three messages a month, never more",
        "Receive news from your local group, the events it organises near you and the meetings it holds",
        "Take part in the life of your local group and meet the members who live near you",
    ]
    .iter()
    .map(|l| format!("<p><label>{l}</label> <input type=\"text\"></p>"))
    .collect();
    let page = format!(
        r#"<html><head><title>Privatisation</title></head><body>
        <div id="content"><article><h1>Privatisation</h1>
          <div class="chapo"><p>{PARAGRAPH}</p><p>{PARAGRAPH}</p></div>
        </article></div>
        <div class="signup"><form method="post" action="/join">{labels}{labels}</form></div>
        </body></html>"#
    );
    let text = article_text(&page);
    assert!(text.contains("buses every twenty minutes"), "{text}");
    assert!(!text.contains("Postcode"), "{text}");
}

#[test]
fn a_post_body_shipped_as_a_template_is_read_where_its_script_would_put_it() {
    let page = format!(
        r#"<html><head><title>Safer browsing</title></head><body>
        <div class="post"><h2>Safer browsing</h2>
          <div class="post-content" itemprop="articleBody"><script type="text/template">
            <p>{PARAGRAPH}</p><p>Phishing sites rotate their domains very quickly now.</p>
          </script><noscript>Enable JavaScript to read this post.</noscript></div>
        </div>
        <script type="text/template"><div class="cookie">We use cookies to improve your experience on this site.</div></script>
        </body></html>"#
    );
    let text = article_text(&page);
    assert!(text.contains("buses every twenty minutes"), "{text}");
    assert!(text.contains("rotate their domains"), "{text}");
    assert!(!text.contains("We use cookies"), "{text}");
}

#[test]
fn the_json_ld_body_replaces_a_teaser() {
    let body = [PARAGRAPH; 5].join("\\n")
        + "\\nThe trial ends in September, when the council decides again.";
    let page = format!(
        r#"<html><head><title>New bus lines</title>
        <script type="application/ld+json">{{"@type":"NewsArticle","headline":"New bus lines","articleBody":"{body}"}}</script>
        </head><body><article><h1>New bus lines</h1>
        <p>The city will test two new bus lines to the northern districts from March.</p>
        <p><a href="/subscribe">Subscribe to read the whole story</a></p></article></body></html>"#
    );
    let text = article_text(&page);
    assert!(text.contains("The trial ends in September"), "{text}");
    assert_eq!(
        text.matches("buses every twenty minutes").count(),
        5,
        "{text}"
    );
}

#[test]
fn a_content_block_that_holds_the_pick_and_much_more_replaces_it() {
    // A page builder's rows, each wrapped several levels deep: an intro, the prose, a table.
    let row = |inner: &str| {
        format!(
            r#"<div class="vc_row"><div class="wpb_column"><div class="vc_column-inner"><div class="wpb_wrapper"><div class="wpb_text_column"><div class="wpb_wrapper">{inner}</div></div></div></div></div></div>"#
        )
    };
    let prose = [PARAGRAPH; 5].map(|p| format!("<p>{p}</p>")).concat();
    let timetable: String = (1..=40)
        .map(|n| {
            format!("<tr><td>Stop {n}</td><td>Mill Lane</td><td>every twenty minutes</td></tr>")
        })
        .collect();
    let page = format!(
        r#"<html><head><title>New bus lines</title></head><body>
        <div class="entry-content">{}{}{}</div>
        <div class="sidebar"><p>Other news</p></div>
        </body></html>"#,
        row("<p>In this article we explain the two new bus lines and where they will stop.</p>"),
        row(&prose),
        row(&format!("<table>{timetable}</table>")),
    );
    let text = article_text(&page);
    assert!(
        text.contains("buses every twenty minutes during the day"),
        "{text}"
    );
    assert!(text.contains("In this article we explain"), "{text}");
    assert!(text.contains("Stop 40"), "{text}");
}
