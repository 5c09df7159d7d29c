/// Unix seconds as ISO-8601 UTC: `2026-01-15T23:50:00Z`. Independent of the time zone
/// and locale of the machine (proleptic Gregorian calendar, any Int64).
public func isoTime(_ seconds: Int64) -> String {
    let (days, secondOfDay) = floorDivide(seconds, 86_400)
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm), in 400-year eras.
    let z = days + 719_468
    let (era, _) = floorDivide(z, 146_097)
    let dayOfEra = z - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let mp = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    let h = secondOfDay / 3600, m = secondOfDay % 3600 / 60, s = secondOfDay % 60
    let yearText = year < 0 ? "-" + pad(-year, 4) : pad(year, 4)
    return "\(yearText)-\(pad(month, 2))-\(pad(day, 2))T\(pad(h, 2)):\(pad(m, 2)):\(pad(s, 2))Z"
}

private func floorDivide(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
    let q = a / b, r = a % b
    return r < 0 ? (q - 1, r + b) : (q, r)
}

private func pad(_ n: Int64, _ width: Int) -> String {
    let digits = String(n)
    return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
}
