//! How the validated text types show: as the text itself, and in debug output as
//! `Type(text)`.

/// Implements `Display` (the text) and `Debug` (`Name(text)`) for a newtype over a `String`.
macro_rules! display_as_text {
    ($name:ident) => {
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }
    };
}

pub(crate) use display_as_text;
