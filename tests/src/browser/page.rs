//! What a person does on a page: open it, type into a labelled field, press a button, read
//! what shows up. Every wait is for something visible on the page, with a generous deadline.

use std::path::Path;
use std::time::{Duration, Instant};

use fantoccini::Locator;
use fantoccini::elements::Element;
use fantoccini::key::Key;

use super::{Browser, PATIENTLY, locate};

impl Browser {
    /// Opens `url` and waits for it to load.
    pub async fn open(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("could not open {url}: {e}"));
    }

    /// The path of the current page.
    pub async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_owned()
    }

    /// Waits until the current page's path is `path`.
    pub async fn wait_for_path(&self, path: &str) {
        let start = Instant::now();
        loop {
            let now = self.path().await;
            if now == path {
                return;
            }
            assert!(
                start.elapsed() < PATIENTLY,
                "the browser stayed at {now}, never reached {path}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Polls `probe` until it answers `Some` or `deadline` passes: the DOM has nothing to
    /// subscribe to from outside the page, so the test looks again until it sees it.
    pub async fn until<T, F, Fut>(&self, deadline: Duration, mut probe: F) -> Option<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let start = Instant::now();
        loop {
            if let Some(value) = probe().await {
                return Some(value);
            }
            if start.elapsed() > deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The first displayed element matching `xpath`, once there is one.
    pub async fn wait_for(&self, what: &str, xpath: &str) -> Element {
        let found = self
            .until(PATIENTLY, || async {
                let elements = self.client.find_all(Locator::XPath(xpath)).await.ok()?;
                for element in elements {
                    if element.is_displayed().await.unwrap_or(false) {
                        return Some(element);
                    }
                }
                None
            })
            .await;
        match found {
            Some(element) => element,
            None => panic!(
                "no {what} on {} (XPath {xpath}); {}",
                self.client
                    .current_url()
                    .await
                    .map(|u| u.to_string())
                    .unwrap_or_default(),
                self.evidence().await
            ),
        }
    }

    /// What the page showed, for a failure message: its text, and a screenshot saved
    /// under the temporary directory.
    pub async fn evidence(&self) -> String {
        let text = match self.client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(error) => format!("(no body: {error})"),
        };
        let shot = std::env::temp_dir().join(format!(
            "whisper-browser-failure-{}.png",
            crate::random_suffix()
        ));
        let saved = match self.client.screenshot().await {
            Ok(png) => std::fs::write(&shot, png).is_ok(),
            Err(_) => false,
        };
        let shot = if saved {
            shot.display().to_string()
        } else {
            "none".to_owned()
        };
        format!("the page showed {text:?} (screenshot: {shot})")
    }

    /// Waits until nothing displayed matches `xpath`.
    pub async fn wait_until_gone(&self, what: &str, xpath: &str) {
        let gone = self
            .until(PATIENTLY, || async {
                let elements = self.client.find_all(Locator::XPath(xpath)).await.ok()?;
                for element in elements {
                    if element.is_displayed().await.unwrap_or(false) {
                        return None;
                    }
                }
                Some(())
            })
            .await;
        assert!(gone.is_some(), "{what} never went away (XPath {xpath})");
    }

    /// The button named `name`.
    pub async fn button(&self, name: &str) -> Element {
        self.wait_for(&format!("button \"{name}\""), &locate::button(name))
            .await
    }

    /// The field labelled `label`.
    pub async fn field(&self, label: &str) -> Element {
        self.wait_for(&format!("field \"{label}\""), &locate::field(label))
            .await
    }

    /// Presses the button named `name`.
    pub async fn press(&self, name: &str) {
        self.button(name).await.click().await.unwrap();
    }

    /// Types `text` into the field labelled `label` (after clearing it).
    pub async fn fill(&self, label: &str, text: &str) {
        let field = self.field(label).await;
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    /// Presses Enter in the field labelled `label`.
    pub async fn press_enter_in(&self, label: &str) {
        let enter = char::from(Key::Enter).to_string();
        self.field(label).await.send_keys(&enter).await.unwrap();
    }

    /// Follows the link named `name`.
    pub async fn follow(&self, name: &str) {
        let link = self
            .wait_for(&format!("link \"{name}\""), &locate::link(name))
            .await;
        link.click().await.unwrap();
    }

    /// Picks `file` in the file input labelled `label`.
    pub async fn attach(&self, label: &str, file: &Path) {
        // A file input may be visually hidden behind a styled label: find it displayed or not.
        let input = self
            .client
            .find(Locator::XPath(&locate::field(label)))
            .await
            .unwrap_or_else(|e| panic!("no file input labelled {label}: {e}"));
        input.send_keys(&file.display().to_string()).await.unwrap();
    }

    /// Waits for a displayed element whose text contains `part`.
    pub async fn wait_for_text(&self, part: &str) -> Element {
        self.wait_for(&format!("text \"{part}\""), &locate::text_containing(part))
            .await
    }

    /// The text of the element labelled `label` (its value, for a form control).
    pub async fn labelled_text(&self, label: &str) -> String {
        let element = self
            .wait_for(
                &format!("element labelled \"{label}\""),
                &locate::labelled_element(label),
            )
            .await;
        let text = element.text().await.unwrap();
        if text.trim().is_empty() {
            element.prop("value").await.unwrap().unwrap_or_default()
        } else {
            text
        }
    }

    /// The texts of the items of the "Messages" list, oldest first.
    pub async fn message_texts(&self) -> Vec<String> {
        let items = self
            .client
            .find_all(Locator::XPath(&locate::message_items()))
            .await
            .unwrap_or_default();
        let mut texts = Vec::with_capacity(items.len());
        for item in items {
            texts.push(item.text().await.unwrap_or_default());
        }
        texts
    }

    /// Waits until some message item's text contains `part`; returns every item's text.
    pub async fn wait_for_message(&self, part: &str) -> Vec<String> {
        let start = Instant::now();
        loop {
            let texts = self.message_texts().await;
            if texts.iter().any(|t| t.contains(part)) {
                return texts;
            }
            assert!(
                start.elapsed() < PATIENTLY,
                "no message containing {part:?}; the list shows {texts:#?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Saves a PNG screenshot of the page as `docs/screenshots/<name>.png`.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        let dir = super::screenshots_dir();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }
}
