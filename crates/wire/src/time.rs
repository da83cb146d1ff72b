//! How instants read on the wire: RFC 3339 for programs, display strings for people.

use chrono::{DateTime, Datelike, SecondsFormat, Timelike, Utc};

/// RFC 3339 UTC with microseconds: `2023-10-18T12:00:00.123456Z`.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// `Oct. 18, 2023`: months abbreviated in the Associated Press style.
pub fn display_date(at: DateTime<Utc>) -> String {
    const MONTHS: [&str; 12] = [
        "Jan.", "Feb.", "March", "April", "May", "June", "July", "Aug.", "Sept.", "Oct.", "Nov.",
        "Dec.",
    ];
    let month = MONTHS[at.month0() as usize % 12];
    format!("{month} {}, {}", at.day(), at.year())
}

/// `12:00 p.m.`
pub fn display_time(at: DateTime<Utc>) -> String {
    let (pm, hour) = at.hour12();
    let meridiem = if pm { "p.m." } else { "a.m." };
    format!("{hour}:{:02} {meridiem}", at.minute())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn dates_and_times_read_like_the_api_examples() {
        let noon = Utc.with_ymd_and_hms(2023, 10, 18, 12, 0, 0).unwrap();
        assert_eq!(display_date(noon), "Oct. 18, 2023");
        assert_eq!(display_time(noon), "12:00 p.m.");
        let night = Utc.with_ymd_and_hms(2024, 9, 3, 0, 5, 0).unwrap();
        assert_eq!(display_date(night), "Sept. 3, 2024");
        assert_eq!(display_time(night), "12:05 a.m.");
        let may = Utc.with_ymd_and_hms(2024, 5, 1, 23, 59, 0).unwrap();
        assert_eq!(
            (display_date(may).as_str(), display_time(may).as_str()),
            ("May 1, 2024", "11:59 p.m.")
        );
    }

    #[test]
    fn timestamps_carry_microseconds_in_utc() {
        let at = Utc.with_ymd_and_hms(2023, 10, 18, 12, 0, 0).unwrap()
            + chrono::Duration::microseconds(123_456);
        assert_eq!(timestamp(at), "2023-10-18T12:00:00.123456Z");
    }
}
