using System.Text.Json.Nodes;

namespace Strix.Engine;

/// <summary>Scalars logged during one phase of an epoch, kept in first-logged order, averaged per batch.</summary>
public sealed class EpochMetrics
{
    sealed class Entry
    {
        public double Sum, Last;
        public long Count;
        public bool ProgBar, OnEpoch;
    }

    readonly List<string> _order = new();
    readonly Dictionary<string, Entry> _entries = new();

    public void Add(string name, double value, bool progBar, bool onEpoch)
    {
        if (!_entries.TryGetValue(name, out var e))
        {
            _entries[name] = e = new Entry();
            _order.Add(name);
        }
        e.Sum += value; e.Count++; e.Last = value;
        e.ProgBar |= progBar; e.OnEpoch |= onEpoch;
    }

    public bool Contains(string name) => _entries.ContainsKey(name);
    public int Count => _order.Count;

    /// <summary>Mean of the values logged for <paramref name="name"/>.</summary>
    public double Mean(string name) { var e = _entries[name]; return e.Sum / e.Count; }

    /// <summary>Epoch values (means) of on_epoch entries, in logging order.</summary>
    public IEnumerable<KeyValuePair<string, double>> EpochValues() =>
        _order.Where(n => _entries[n].OnEpoch).Select(n => KeyValuePair.Create(n, Mean(n)));

    /// <summary>Progress-bar values: running mean for on_epoch entries, last value otherwise.</summary>
    public IEnumerable<KeyValuePair<string, double>> ProgressValues() =>
        _order.Where(n => _entries[n].ProgBar).Select(n => KeyValuePair.Create(n, _entries[n].OnEpoch ? Mean(n) : _entries[n].Last));

    public void Clear() { _order.Clear(); _entries.Clear(); }

    /// <summary>Raw totals in logging order (for combining the metrics of several ranks).</summary>
    internal IEnumerable<(string Name, double Sum, long Count, bool ProgBar, bool OnEpoch)> Entries() =>
        _order.Select(n => (n, _entries[n].Sum, _entries[n].Count, _entries[n].ProgBar, _entries[n].OnEpoch));

    /// <summary>Replaces the totals (combined over ranks); last values of entries that stay are kept.</summary>
    internal void Replace(IEnumerable<(string Name, double Sum, long Count, bool ProgBar, bool OnEpoch)> totals)
    {
        var last = _entries.ToDictionary(kv => kv.Key, kv => kv.Value.Last);
        Clear();
        foreach (var (name, sum, count, progBar, onEpoch) in totals)
        {
            if (count == 0) continue;
            _order.Add(name);
            _entries[name] = new Entry { Sum = sum, Count = count, Last = last.TryGetValue(name, out var l) ? l : sum / count, ProgBar = progBar, OnEpoch = onEpoch };
        }
    }

    public JsonArray ToJson()
    {
        var a = new JsonArray();
        foreach (var n in _order)
        {
            var e = _entries[n];
            a.Add(new JsonObject { ["name"] = n, ["sum"] = e.Sum, ["count"] = e.Count, ["last"] = e.Last, ["prog_bar"] = e.ProgBar, ["on_epoch"] = e.OnEpoch });
        }
        return a;
    }

    public void Load(JsonArray? a)
    {
        Clear();
        if (a is null) return;
        foreach (var node in a)
        {
            var o = node!.AsObject();
            var n = (string)o["name"]!;
            _order.Add(n);
            _entries[n] = new Entry
            {
                Sum = (double)o["sum"]!, Count = (long)o["count"]!, Last = (double)o["last"]!,
                ProgBar = (bool)o["prog_bar"]!, OnEpoch = (bool)o["on_epoch"]!,
            };
        }
    }
}
