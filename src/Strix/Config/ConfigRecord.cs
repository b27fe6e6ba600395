using System.Globalization;
using System.Reflection;
using Strix.Data;
using Strix.Engine;
using Strix.Engine.Precision;

namespace Strix.Config;

/// <summary>
/// A command's arguments as a typed, immutable record (<see cref="TrainConfig"/>, <see cref="ValConfig"/> …):
/// each <see cref="ArgAttribute"/> property is one argument and its initializer is the one place its
/// default lives. <see cref="Bind{T}"/> turns <see cref="ArgumentList"/> pairs into a record — an unknown
/// key or a malformed value is an <see cref="ArgumentException"/> naming it (with the closest known key) —
/// then runs <see cref="Validate"/>, which names the bad key and value. <see cref="Items"/> and
/// <see cref="YamlItems"/> write the record back (checkpoint metadata, <c>args.yaml</c>).
/// </summary>
public abstract record ConfigRecord
{
    IReadOnlySet<string> _given = new HashSet<string>();

    /// <summary>The command these arguments belong to (for messages: "'x' is not a valid train argument").</summary>
    protected abstract string Command { get; }

    /// <summary>The keys given explicitly (not left at their defaults).</summary>
    public IReadOnlySet<string> Given => _given;

    /// <summary>True when <paramref name="key"/> was given explicitly.</summary>
    public bool IsGiven(string key) => _given.Contains(key);

    /// <summary>Range and consistency checks; throws <see cref="ArgumentException"/> naming the argument and value.</summary>
    public virtual void Validate() { }

    /// <summary>Binds <paramref name="args"/> over the defaults of <typeparamref name="T"/> and validates the result.</summary>
    public static T Bind<T>(IEnumerable<KeyValuePair<string, string?>> args) where T : ConfigRecord, new() => new T().With(args);

    /// <summary>Every argument: name, help, and the property that holds it, in declaration order.</summary>
    public static IReadOnlyList<ArgInfo> Arguments(Type recordType) => ArgInfo.Of(recordType);

    /// <summary>Name → text value ("" for None), in declaration order: what checkpoints and weight files store.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Items() =>
        ArgInfo.Of(GetType()).Select(a => KeyValuePair.Create(a.Name, ArgValues.Format(a.Property.GetValue(this)))).ToList();

    /// <summary>Name → value typed for YAML (numbers, booleans, strings, lists, null), in declaration order.</summary>
    public IEnumerable<KeyValuePair<string, object?>> YamlItems() =>
        ArgInfo.Of(GetType()).Select(a => KeyValuePair.Create(a.Name, ArgValues.ForYaml(a.Property.GetValue(this))));

    /// <summary>The text value of one argument ("" for None).</summary>
    public string Text(string key) => ArgValues.Format(ArgInfo.Find(GetType(), key, Command).Property.GetValue(this));

    internal ConfigRecord Apply(IEnumerable<KeyValuePair<string, string?>> args)
    {
        var copy = (ConfigRecord)CloneMethod.Invoke(this, null)!;
        var given = new HashSet<string>(_given);
        foreach (var (key, value) in args)
        {
            var info = ArgInfo.Find(GetType(), key, Command);
            info.Property.SetValue(copy, ArgValues.Parse(info, value));
            given.Add(info.Name);
        }
        copy._given = given;
        copy.Validate();
        return copy;
    }

    static readonly MethodInfo CloneMethod = typeof(ConfigRecord).GetMethod("<Clone>$")!;
}

/// <summary>Binding of <see cref="ConfigRecord"/>s (extension form so the record's own type comes back).</summary>
public static class ConfigRecords
{
    /// <summary>A copy of <paramref name="record"/> with <paramref name="args"/> applied (marked as given), validated.</summary>
    public static T With<T>(this T record, IEnumerable<KeyValuePair<string, string?>> args) where T : ConfigRecord =>
        (T)record.Apply(args);

    /// <summary>A copy with one argument set from text (null: None).</summary>
    public static T With<T>(this T record, string key, string? value) where T : ConfigRecord =>
        (T)record.Apply(new[] { KeyValuePair.Create(key, value) });

    /// <summary>Parses command-line words (<c>key=value</c>, bare flags) into <typeparamref name="T"/>.</summary>
    public static T Parse<T>(IEnumerable<string> words) where T : ConfigRecord, new() => new T().With(ArgumentList.Parse(words));

    /// <summary>Parses a key → value dictionary (the library's form of a command line) into <typeparamref name="T"/>.</summary>
    public static T Parse<T>(IEnumerable<KeyValuePair<string, string>> pairs) where T : ConfigRecord, new() => new T().With(ArgumentList.From(pairs));
}

/// <summary>One argument of a config record.</summary>
public sealed record ArgInfo(string Name, string Help, PropertyInfo Property)
{
    static readonly Dictionary<Type, IReadOnlyList<ArgInfo>> Cache = new();

    public static IReadOnlyList<ArgInfo> Of(Type recordType)
    {
        lock (Cache)
        {
            if (Cache.TryGetValue(recordType, out var list)) return list;
            var props = recordType.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .Select(p => (Property: p, Arg: p.GetCustomAttribute<ArgAttribute>()))
                .Where(x => x.Arg is not null)
                .OrderBy(x => x.Arg!.Order)
                .Select(x => new ArgInfo(x.Arg!.Name, x.Arg.Help, x.Property))
                .ToList();
            var dup = props.GroupBy(a => a.Name).FirstOrDefault(g => g.Count() > 1);
            if (dup is not null) throw new InvalidOperationException($"{recordType.Name} declares argument '{dup.Key}' twice");
            return Cache[recordType] = props;
        }
    }

    public static ArgInfo Find(Type recordType, string key, string command)
    {
        var all = Of(recordType);
        var k = ArgumentList.NormalizeKey(key);
        return all.FirstOrDefault(a => a.Name == k) ?? throw new ArgumentException(
            $"'{key}' is not a valid {command} argument (did you mean '{all.MinBy(a => EditDistance(a.Name, k))!.Name}'?)");
    }

    static int EditDistance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
        return d[a.Length, b.Length];
    }
}

/// <summary>Text ⇄ value for the argument types config records use.</summary>
static class ArgValues
{
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static object? Parse(ArgInfo arg, string? text)
    {
        var type = arg.Property.PropertyType;
        var inner = Nullable.GetUnderlyingType(type);
        bool nullable = inner is not null || !type.IsValueType;
        var t = inner ?? type;
        text = text?.Trim();
        if (string.IsNullOrEmpty(text) || text is "None" or "none" or "null")
        {
            if (t == typeof(bool)) return false;
            if (nullable) return null;
            throw new ArgumentException($"{arg.Name} needs a value (it cannot be None)");
        }
        try
        {
            if (t == typeof(string)) return text;
            if (t == typeof(bool)) return ParseBool(arg.Name, text);
            if (t == typeof(int)) return ParseInt(arg.Name, text);
            if (t == typeof(long)) return (long)ParseDouble(arg.Name, text, integral: true);
            if (t == typeof(double)) return ParseDouble(arg.Name, text, integral: false);
            if (t == typeof(int[])) return text.Trim('[', ']', '(', ')').Split(new[] { ',', ' ' }, StringSplitOptions.RemoveEmptyEntries)
                .Select(x => ParseInt(arg.Name, x, text)).ToArray();
            if (t == typeof(PrecisionMode)) return Precisions.Parse(text);
            if (t == typeof(ImageCacheMode)) return DataLoaderOptions.ParseCache(text);
            if (t == typeof(BatchLimit)) return BatchLimit.Parse(text);
        }
        catch (ArgumentException e) when (!e.Message.StartsWith(arg.Name + "=", StringComparison.Ordinal))
        {
            throw new ArgumentException($"{arg.Name}={text}: {e.Message}", e);
        }
        throw new InvalidOperationException($"argument '{arg.Name}' has an unsupported type {type.Name}");
    }

    static bool ParseBool(string name, string text) => text.ToLowerInvariant() switch
    {
        "true" or "1" or "yes" or "on" => true,
        "false" or "0" or "no" or "off" => false,
        _ => throw new ArgumentException($"{name}={text} is not true/false"),
    };

    static int ParseInt(string name, string text, string? whole = null)
    {
        if (int.TryParse(text, NumberStyles.Integer, Inv, out var i)) return i;
        if (double.TryParse(text, NumberStyles.Float, Inv, out var d) && d == Math.Floor(d) && Math.Abs(d) <= int.MaxValue) return (int)d;
        throw new ArgumentException(whole is null ? $"{name}={text} is not an integer" : $"{name}={whole}: '{text}' is not an integer");
    }

    static double ParseDouble(string name, string text, bool integral)
    {
        if (double.TryParse(text, NumberStyles.Float, Inv, out var d) && !double.IsNaN(d) && (!integral || (d == Math.Floor(d) && Math.Abs(d) < long.MaxValue)))
            return d;
        throw new ArgumentException($"{name}={text} is not {(integral ? "an integer" : "a number")}");
    }

    public static string Format(object? value) => value switch
    {
        null => "",
        bool b => b ? "true" : "false",
        double d => d.ToString("R", Inv),
        int[] list => "[" + string.Join(", ", list.Select(v => v.ToString(Inv))) + "]",
        PrecisionMode p => p.Name(),
        ImageCacheMode c => c switch { ImageCacheMode.Ram => "ram", ImageCacheMode.Disk => "disk", _ => "false" },
        IFormattable f => f.ToString(null, Inv),
        _ => value.ToString() ?? "",
    };

    public static object? ForYaml(object? value) => value switch
    {
        null => null,
        string s when s is "true" or "false" => s == "true", // resume=false is a boolean in Ultralytics' args.yaml
        bool or int or long or double or string => value,
        int[] list => list,
        ImageCacheMode.None => false,
        BatchLimit limit => limit.Count is int c ? c : limit.Fraction,
        _ => Format(value),
    };
}
