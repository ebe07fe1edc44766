//! ISO weeks: what a digest reports on and the unit of "once per week".
//! Weeks start on Monday 00:00 UTC.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};

/// An ISO 8601 week, e.g. 2026-W47.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Week {
    monday: NaiveDate,
}

/// A week that is not written `YYYY-Www`.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not an ISO week; write it like 2026-W47")]
pub struct BadWeek(pub String);

impl Week {
    /// The week `at` falls in.
    pub fn containing(at: DateTime<Utc>) -> Week {
        let day = at.date_naive();
        Week { monday: day - Duration::days(i64::from(day.weekday().num_days_from_monday())) }
    }

    /// The last week that has ended by `now`: the one a digest sent at `now` reports on.
    pub fn last_complete(now: DateTime<Utc>) -> Week {
        Week::containing(now).previous()
    }

    pub fn previous(self) -> Week {
        Week { monday: self.monday - Duration::days(7) }
    }

    /// Monday 00:00 UTC.
    pub fn start(self) -> DateTime<Utc> {
        Utc.from_utc_datetime(&self.monday.and_hms_opt(0, 0, 0).unwrap_or_default())
    }

    /// The next Monday 00:00 UTC (exclusive).
    pub fn end(self) -> DateTime<Utc> {
        self.start() + Duration::days(7)
    }

    /// The last day of the week, for display.
    pub fn sunday(self) -> NaiveDate {
        self.monday + Duration::days(6)
    }

    pub fn monday(self) -> NaiveDate {
        self.monday
    }
}

impl std::fmt::Display for Week {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let w = self.monday.iso_week();
        write!(f, "{}-W{:02}", w.year(), w.week())
    }
}

impl std::str::FromStr for Week {
    type Err = BadWeek;

    fn from_str(s: &str) -> Result<Week, BadWeek> {
        let bad = || BadWeek(s.to_string());
        let (year, week) = s.split_once("-W").ok_or_else(bad)?;
        let (year, week) = (year.parse().map_err(|_| bad())?, week.parse().map_err(|_| bad())?);
        NaiveDate::from_isoywd_opt(year, week, Weekday::Mon).map(|monday| Week { monday }).ok_or_else(bad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_run_monday_to_monday_and_round_trip_through_their_name() {
        let sunday_night = Utc.with_ymd_and_hms(2026, 11, 22, 23, 59, 59).unwrap();
        let week = Week::containing(sunday_night);
        assert_eq!(week.to_string(), "2026-W47");
        assert_eq!(week.start(), Utc.with_ymd_and_hms(2026, 11, 16, 0, 0, 0).unwrap());
        assert_eq!(week.end(), Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).unwrap());
        assert_eq!("2026-W47".parse::<Week>().unwrap(), week);
        assert_eq!(Week::last_complete(week.end()), week, "on Monday the digest reports on the week just ended");
        // ISO years differ from calendar years around new year.
        assert_eq!(Week::containing(Utc.with_ymd_and_hms(2027, 1, 1, 12, 0, 0).unwrap()).to_string(), "2026-W53");
        assert!("2026-W54".parse::<Week>().is_err() && "47".parse::<Week>().is_err());
    }
}
