using Strix.IO;
using System.Globalization;
using System.Text;

namespace Strix.Engine.Loggers;

/// <summary>
/// <c>results.csv</c>: one row per epoch, the first column <c>epoch</c> (1-based). With fixed
/// <c>columns</c> (YOLO: Ultralytics' train/box_loss … lr/pg2) exactly those are written in that order;
/// otherwise every key logged, in first-seen order (the header grows when a new key appears).
/// Numbers use Python's <c>%.6g</c> style. The file is rewritten atomically after each epoch; a
/// resumed run keeps the rows up to its checkpoint and drops any written after it.
/// </summary>
public sealed class CsvLogger : TrainingLogger
{
    readonly List<string>? _fixed;
    readonly List<string> _columns = new();
    readonly List<(int Epoch, Dictionary<string, double> Values)> _rows = new();

    public CsvLogger(string path, IEnumerable<string>? columns = null)
    {
        Path = System.IO.Path.GetFullPath(path);
        _fixed = columns?.ToList();
        if (_fixed is not null) _columns.AddRange(_fixed);
    }

    public string Path { get; }
    public IReadOnlyList<string> Columns => _columns;

    public override void LogEpoch(int epoch, IReadOnlyList<KeyValuePair<string, double>> metrics)
    {
        var values = new Dictionary<string, double>();
        foreach (var (k, v) in metrics)
        {
            values[k] = v;
            if (_fixed is null && !_columns.Contains(k)) _columns.Add(k);
        }
        _rows.RemoveAll(r => r.Epoch >= epoch);
        _rows.Add((epoch, values));
        Write();
    }

    public override void OnResume(int epochsCompleted)
    {
        _rows.Clear();
        if (!File.Exists(Path)) return;
        var lines = File.ReadAllLines(Path);
        if (lines.Length == 0) return;
        var header = lines[0].Split(',').Select(h => h.Trim()).ToArray();
        if (header.Length == 0 || header[0] != "epoch") throw new InvalidDataException($"{Path}: first column is not 'epoch'");
        for (int i = 1; i < header.Length; i++) if (!_columns.Contains(header[i]) && _fixed is null) _columns.Add(header[i]);
        for (int li = 1; li < lines.Length; li++)
        {
            if (string.IsNullOrWhiteSpace(lines[li])) continue;
            var cells = lines[li].Split(',');
            if (!int.TryParse(cells[0].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var epoch))
                throw new InvalidDataException($"{Path}:{li + 1}: epoch '{cells[0]}' is not an integer");
            if (epoch > epochsCompleted) continue;
            var values = new Dictionary<string, double>();
            for (int c = 1; c < Math.Min(cells.Length, header.Length); c++)
                if (TryParse(cells[c].Trim(), out var v)) values[header[c]] = v;
            _rows.Add((epoch, values));
        }
        Write();
    }

    void Write()
    {
        var sb = new StringBuilder();
        sb.Append("epoch");
        foreach (var c in _columns) sb.Append(',').Append(c);
        sb.Append('\n');
        foreach (var (epoch, values) in _rows)
        {
            sb.Append(epoch.ToString(CultureInfo.InvariantCulture));
            foreach (var c in _columns) sb.Append(',').Append(values.TryGetValue(c, out var v) ? Format(v) : "");
            sb.Append('\n');
        }
        AtomicFile.WriteAllText(Path, sb.ToString());
    }

    /// <summary>Python's "%.6g": 6 significant digits, lower-case exponent, nan/inf spelled as Python does.</summary>
    public static string Format(double v)
    {
        if (double.IsNaN(v)) return "nan";
        if (double.IsPositiveInfinity(v)) return "inf";
        if (double.IsNegativeInfinity(v)) return "-inf";
        if (v == 0) return "0";
        var rounded = double.Parse(v.ToString("E5", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        int exp = (int)Math.Floor(Math.Log10(Math.Abs(rounded)));
        if (exp < -4 || exp >= 6)
        {
            var mant = (rounded / Math.Pow(10, exp)).ToString("0.#####", CultureInfo.InvariantCulture);
            return $"{mant}e{(exp < 0 ? '-' : '+')}{Math.Abs(exp):00}";
        }
        int decimals = Math.Max(0, 5 - exp);
        return rounded.ToString("0." + new string('#', decimals), CultureInfo.InvariantCulture);
    }

    static bool TryParse(string s, out double v)
    {
        switch (s)
        {
            case "nan": v = double.NaN; return true;
            case "inf": v = double.PositiveInfinity; return true;
            case "-inf": v = double.NegativeInfinity; return true;
        }
        return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out v);
    }
}
