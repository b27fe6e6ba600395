using System.Globalization;

namespace Strix.Cli;

/// <summary>
/// Ultralytics-style arguments: <c>key=value</c> pairs after the command word
/// (<c>strix train data=coco8.yaml epochs=3</c>). Bare words become flags set to true
/// (<c>strix train resume</c>). Every key a command does not read is reported as an error,
/// so a typo never silently falls back to a default.
/// </summary>
public sealed class CliArgs
{
    readonly Dictionary<string, string> _values = new(StringComparer.OrdinalIgnoreCase);
    readonly HashSet<string> _used = new(StringComparer.OrdinalIgnoreCase);

    public CliArgs(IEnumerable<string> args)
    {
        foreach (var raw in args)
        {
            var a = raw.TrimStart('-');
            int eq = a.IndexOf('=');
            if (eq < 0) _values[a] = "true";
            else
            {
                var key = a[..eq].Trim();
                if (key.Length == 0) throw new ArgumentException($"argument '{raw}' has no key before '='");
                _values[key] = a[(eq + 1)..].Trim();
            }
        }
    }

    public IReadOnlyDictionary<string, string> Values => _values;

    public bool Has(string key) => _values.ContainsKey(key);

    public string? GetString(string key, string? fallback = null)
    {
        _used.Add(key);
        if (!_values.TryGetValue(key, out var v)) return fallback;
        return v is "None" or "none" or "null" ? fallback : v;
    }

    public string Require(string key, string hint) =>
        GetString(key) ?? throw new ArgumentException($"missing argument '{key}=…' ({hint})");

    public int GetInt(string key, int fallback)
    {
        var s = GetString(key);
        if (s is null) return fallback;
        if (int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)) return v;
        if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d == Math.Floor(d)) return (int)d;
        throw new ArgumentException($"argument '{key}={s}' is not an integer");
    }

    public double GetDouble(string key, double fallback)
    {
        var s = GetString(key);
        if (s is null) return fallback;
        return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
            ? v : throw new ArgumentException($"argument '{key}={s}' is not a number");
    }

    public bool GetBool(string key, bool fallback)
    {
        var s = GetString(key);
        if (s is null) return fallback;
        return s.ToLowerInvariant() switch
        {
            "true" or "1" or "yes" or "on" => true,
            "false" or "0" or "no" or "off" => false,
            _ => throw new ArgumentException($"argument '{key}={s}' is not true/false"),
        };
    }

    /// <summary>Comma/space separated integers, e.g. <c>classes=0,2</c> or <c>classes=[0, 2]</c>.</summary>
    public int[]? GetIntList(string key)
    {
        var s = GetString(key);
        if (s is null) return null;
        return s.Trim('[', ']').Split(new[] { ',', ' ' }, StringSplitOptions.RemoveEmptyEntries)
            .Select(x => int.TryParse(x, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v
                : throw new ArgumentException($"argument '{key}={s}': '{x}' is not an integer")).ToArray();
    }

    /// <summary>Throws if any argument given was never read by the command.</summary>
    public void EnsureAllUsed(string command)
    {
        var unknown = _values.Keys.Where(k => !_used.Contains(k)).ToList();
        if (unknown.Count > 0)
            throw new ArgumentException($"'strix {command}' does not take: {string.Join(", ", unknown)}");
    }
}
