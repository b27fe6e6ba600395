using System.Globalization;

namespace Strix.Engine;

/// <summary>
/// Lightning's <c>limit_train_batches</c>/<c>limit_val_batches</c>: a count ("10") or a fraction of the
/// epoch ("0.25", "1.0" = all). At least one batch is kept when the fraction is positive.
/// </summary>
public readonly record struct BatchLimit
{
    BatchLimit(int? count, double? fraction) { Count = count; Fraction = fraction; }

    public int? Count { get; }
    public double? Fraction { get; }

    public static BatchLimit Batches(int count) =>
        count >= 0 ? new(count, null) : throw new ArgumentOutOfRangeException(nameof(count), "batch limit must be ≥ 0");

    public static BatchLimit Of(double fraction) =>
        fraction is >= 0 and <= 1 ? new(null, fraction) : throw new ArgumentOutOfRangeException(nameof(fraction), "batch fraction must be in [0, 1]");

    /// <summary>"10" → 10 batches; "0.5" or "1.0" → a fraction (a decimal point makes it a fraction).</summary>
    public static BatchLimit Parse(string text)
    {
        var t = text.Trim();
        if (!t.Contains('.') && int.TryParse(t, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)) return Batches(n);
        if (double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var f)) return Of(f);
        throw new ArgumentException($"batch limit '{text}' is neither a count nor a fraction");
    }

    /// <summary>Batches used out of <paramref name="available"/>.</summary>
    public int Apply(int available)
    {
        if (Count is int c) return Math.Min(c, available);
        double f = Fraction ?? 1.0;
        if (f == 0 || available == 0) return 0; // e.g. a rank whose validation shard is empty
        return Math.Clamp((int)Math.Floor(available * f), 1, available);
    }

    public override string ToString() => Count?.ToString(CultureInfo.InvariantCulture) ?? (Fraction ?? 1.0).ToString("0.0##", CultureInfo.InvariantCulture);
}
