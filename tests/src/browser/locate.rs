//! XPath locators that find elements the way a person does: a button by its text, a field
//! by its label, a region by its accessible name. Names compare case-insensitively with
//! whitespace normalised (UI.md fixes the English texts, not their case).

const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";

/// An XPath string literal for `text` (XPath 1.0 has no escapes: use `concat` around `'`).
fn literal(text: &str) -> String {
    if !text.contains('\'') {
        return format!("'{text}'");
    }
    let parts: Vec<String> = text.split('\'').map(|part| format!("'{part}'")).collect();
    format!("concat({})", parts.join(", \"'\", "))
}

/// `expression`, normalised and lower-cased, equals `name`.
fn named(expression: &str, name: &str) -> String {
    format!(
        "translate(normalize-space({expression}), '{UPPER}', '{LOWER}') = {}",
        literal(&name.to_lowercase())
    )
}

/// `expression`, lower-cased, contains `part`.
fn containing(expression: &str, part: &str) -> String {
    format!(
        "contains(translate(normalize-space({expression}), '{UPPER}', '{LOWER}'), {})",
        literal(&part.to_lowercase())
    )
}

/// `expression`, normalised and lower-cased, starts with `name`.
fn starting(expression: &str, name: &str) -> String {
    format!(
        "starts-with(translate(normalize-space({expression}), '{UPPER}', '{LOWER}'), {})",
        literal(&name.to_lowercase())
    )
}

/// The element's accessible name is `name`: its `aria-label`, the text of what
/// `aria-labelledby` points at, or the text of a `<label>` for it (by `for` or around it).
/// A label may go on after the name ("Username (optional)"), as a person reads it.
fn labelled(name: &str) -> String {
    format!(
        "{aria} or @id = //label[{label}]/@for or ancestor::label[{label}] \
         or @aria-labelledby = //*[{text}]/@id",
        aria = named("@aria-label", name),
        label = starting(".", name),
        text = named(".", name),
    )
}

/// A button whose text (or `aria-label`, or `value` for `<input>`) is `name`.
pub fn button(name: &str) -> String {
    format!(
        "//button[{text} or {aria}] | //*[@role='button'][{text} or {aria}] \
         | //input[(@type='submit' or @type='button') and {value}]",
        text = named(".", name),
        aria = named("@aria-label", name),
        value = named("@value", name),
    )
}

/// A form field (input, textarea, select) labelled `name`.
pub fn field(name: &str) -> String {
    format!(
        "//*[self::input or self::textarea or self::select][{}]",
        labelled(name)
    )
}

/// A link whose text (or `aria-label`) is `name`.
pub fn link(name: &str) -> String {
    format!(
        "//a[{} or {}]",
        named(".", name),
        named("@aria-label", name)
    )
}

/// Any element labelled `name` (e.g. the "Secret key" text, the "Messages" list).
pub fn labelled_element(name: &str) -> String {
    format!("//*[{}]", labelled(name))
}

/// An image whose alt text is `alt`.
pub fn image(alt: &str) -> String {
    format!("//img[{}]", named("@alt", alt))
}

/// A `role="status"` (or `<output>`) element whose text contains `part`.
pub fn status_containing(part: &str) -> String {
    format!(
        "//*[@role='status' or self::output][{}]",
        containing(".", part)
    )
}

/// A `role="alert"` element whose text contains `part`.
pub fn alert_containing(part: &str) -> String {
    format!("//*[@role='alert'][{}]", containing(".", part))
}

/// Any element whose own text contains `part` (e.g. "Check your email").
pub fn text_containing(part: &str) -> String {
    format!(
        "//body//*[{}][not(*[{}])]",
        containing(".", part),
        containing(".", part)
    )
}

/// A pickable option (`role="option"`) whose text contains `part`.
pub fn option_containing(part: &str) -> String {
    format!("//*[@role='option'][{}]", containing(".", part))
}

/// The messages of the list named "Messages": its items (`li`, `role="listitem"`, or
/// the direct children of a `role="log"` element).
pub fn message_items() -> String {
    let list = labelled_element("Messages");
    format!("({list})[1]/*[self::li or @role='listitem' or ../@role='log']")
}

/// The message item whose text contains `part`.
pub fn message_containing(part: &str) -> String {
    format!("({})[{}]", message_items(), containing(".", part))
}

/// The button named `name` inside the message item whose text contains `part`.
pub fn button_of_message(part: &str, name: &str) -> String {
    let item = message_containing(part);
    let button = button(name);
    let inside: Vec<String> = button.split(" | ").map(|b| format!("{item}{b}")).collect();
    inside.join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_concatenated() {
        assert_eq!(literal("it's"), "concat('it', \"'\", 's')");
        assert_eq!(literal("plain"), "'plain'");
    }
}
