namespace Strix.Config;

/// <summary>
/// The one parser of Ultralytics-style arguments: <c>key=value</c> words after the command
/// (<c>strix train data=coco8.yaml epochs=3</c>), bare words as flags set to true (<c>strix train resume</c>).
/// Keys are lower-cased with <c>-</c> read as <c>_</c> and leading dashes dropped (<c>--batch=8</c>);
/// <c>None</c>/<c>null</c> mean "not set". A key given twice keeps the last value, as Ultralytics does.
/// What a key means is up to the <see cref="ConfigRecord"/> it is bound to.
/// </summary>
public static class ArgumentList
{
    /// <summary>(key, value) in the order given; a null value means None.</summary>
    public static IReadOnlyList<KeyValuePair<string, string?>> Parse(IEnumerable<string> words)
    {
        var result = new List<KeyValuePair<string, string?>>();
        foreach (var raw in words)
        {
            var a = raw.TrimStart('-');
            int eq = a.IndexOf('=');
            string key = eq < 0 ? a : a[..eq];
            string? value = eq < 0 ? "true" : a[(eq + 1)..].Trim();
            key = NormalizeKey(key);
            if (key.Length == 0) throw new ArgumentException($"argument '{raw}' has no key before '='");
            Add(result, key, value);
        }
        return result;
    }

    /// <summary>The same normalisation for arguments given as a dictionary (the library API).</summary>
    public static IReadOnlyList<KeyValuePair<string, string?>> From(IEnumerable<KeyValuePair<string, string>> pairs)
    {
        var result = new List<KeyValuePair<string, string?>>();
        foreach (var (k, v) in pairs)
        {
            var key = NormalizeKey(k);
            if (key.Length == 0) throw new ArgumentException("an argument has an empty key");
            Add(result, key, v);
        }
        return result;
    }

    public static string NormalizeKey(string key) => key.Trim().ToLowerInvariant().Replace('-', '_');

    static void Add(List<KeyValuePair<string, string?>> list, string key, string? value)
    {
        value = value?.Trim();
        if (value is "None" or "none" or "null" or "") value = null;
        list.RemoveAll(kv => kv.Key == key);
        list.Add(KeyValuePair.Create(key, value));
    }
}
