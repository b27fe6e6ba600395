using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Strix.IO;

namespace Strix.Engine.Profilers;

/// <summary>
/// Lightning's <c>SimpleProfiler</c>, with CPU time beside wall time: per action the number of calls and
/// the total and mean wall seconds, and the process CPU seconds spent meanwhile (all threads: intra-op
/// threads count, so CPU/wall shows how many cores an action kept busy). CPU time is the process's, so
/// it includes any data-loader workers running at the same moment: profile with <c>workers=0</c> for a
/// clean split. On an asynchronous device, pass <paramref name="synchronize"/> so each action's time is
/// its own and not that of the kernels it queued.
/// </summary>
public sealed class SimpleProfiler(Action? synchronize = null) : Profiler
{
    readonly Action? _synchronize = synchronize;
    sealed class Entry { public long Calls; public TimeSpan Wall, Cpu; }

    readonly Dictionary<string, Entry> _entries = new();
    readonly List<string> _order = new();
    readonly Stopwatch _clock = Stopwatch.StartNew();
    TimeSpan _cpuAtStart = Environment.CpuUsage.TotalTime;

    /// <summary>Where <see cref="Write"/> puts the report when the run ends (null: print only).</summary>
    public string? OutputPath { get; init; }

    public override bool Enabled => true;

    public override IDisposable Profile(string action)
    {
        _synchronize?.Invoke();
        lock (_entries) EntryFor(action); // listed in the order started
        return new Scope(this, action, _clock.Elapsed, Environment.CpuUsage.TotalTime);
    }

    sealed class Scope(SimpleProfiler owner, string action, TimeSpan wall0, TimeSpan cpu0) : IDisposable
    {
        bool _done;
        public void Dispose()
        {
            if (_done) return;
            _done = true;
            owner._synchronize?.Invoke();
            owner.Record(action, owner._clock.Elapsed - wall0, Environment.CpuUsage.TotalTime - cpu0);
        }
    }

    void Record(string action, TimeSpan wall, TimeSpan cpu)
    {
        lock (_entries)
        {
            var e = EntryFor(action); // made again when a Reset came mid-action
            e.Calls++; e.Wall += wall; e.Cpu += cpu;
        }
    }

    /// <summary>The action's entry, made on first use; the caller holds the lock.</summary>
    Entry EntryFor(string action)
    {
        if (!_entries.TryGetValue(action, out var e)) { _entries[action] = e = new Entry(); _order.Add(action); }
        return e;
    }

    /// <summary>Forgets everything recorded and restarts the total clock (e.g. after warm-up steps).</summary>
    public void Reset()
    {
        lock (_entries) { _entries.Clear(); _order.Clear(); }
        _clock.Restart();
        _cpuAtStart = Environment.CpuUsage.TotalTime;
    }

    /// <summary>One recorded action: calls, total wall and process-CPU time.</summary>
    public readonly record struct ActionStats(string Action, long Calls, TimeSpan Wall, TimeSpan Cpu)
    {
        public double MeanWallMs => Calls == 0 ? 0 : Wall.TotalMilliseconds / Calls;
        public double MeanCpuMs => Calls == 0 ? 0 : Cpu.TotalMilliseconds / Calls;
    }

    /// <summary>The recorded actions in the order first started.</summary>
    public IReadOnlyList<ActionStats> Actions
    {
        get
        {
            lock (_entries) return _order.Select(a => new ActionStats(a, _entries[a].Calls, _entries[a].Wall, _entries[a].Cpu)).ToList();
        }
    }

    /// <summary>Wall time since the profiler was made (or reset).</summary>
    public TimeSpan Total => _clock.Elapsed;
    /// <summary>Process CPU time since the profiler was made (or reset).</summary>
    public TimeSpan TotalCpu => Environment.CpuUsage.TotalTime - _cpuAtStart;

    public override string Summary()
    {
        var inv = CultureInfo.InvariantCulture;
        var rows = Actions.OrderByDescending(a => a.Wall).ToList();
        double total = Math.Max(Total.TotalSeconds, 1e-9);
        int w = Math.Max(6, rows.Select(r => r.Action.Length).DefaultIfEmpty(0).Max());
        var sb = new StringBuilder();
        sb.AppendLine("Profiler Report");
        sb.AppendLine(string.Create(inv, $"{"Action".PadRight(w)} | {"Mean (ms)",10} | {"Calls",7} | {"Total (s)",10} | {"CPU (s)",9} | {"Cores",5} | {"Percent",7}"));
        sb.AppendLine(new string('-', w + 70));
        sb.AppendLine(string.Create(inv, $"{"Total".PadRight(w)} | {"",10} | {"",7} | {total,10:0.000} | {TotalCpu.TotalSeconds,9:0.000} | {TotalCpu.TotalSeconds / total,5:0.00} | {100.0,7:0.0}"));
        foreach (var r in rows)
            sb.AppendLine(string.Create(inv, $"{r.Action.PadRight(w)} | {r.MeanWallMs,10:0.000} | {r.Calls,7} | {r.Wall.TotalSeconds,10:0.000} | {r.Cpu.TotalSeconds,9:0.000} | {(r.Wall.Ticks > 0 ? r.Cpu / r.Wall : 0),5:0.00} | {100 * r.Wall.TotalSeconds / total,7:0.0}"));
        return sb.ToString();
    }

    /// <summary>The report as JSON: total wall/CPU seconds and, per action, calls and wall/CPU milliseconds (total and mean).</summary>
    public JsonObject ToJson()
    {
        var actions = new JsonArray();
        foreach (var a in Actions)
            actions.Add(new JsonObject
            {
                ["action"] = a.Action, ["calls"] = a.Calls,
                ["wall_ms_total"] = Math.Round(a.Wall.TotalMilliseconds, 3), ["cpu_ms_total"] = Math.Round(a.Cpu.TotalMilliseconds, 3),
                ["wall_ms_mean"] = Math.Round(a.MeanWallMs, 3), ["cpu_ms_mean"] = Math.Round(a.MeanCpuMs, 3),
            });
        return new JsonObject
        {
            ["wall_s_total"] = Math.Round(Total.TotalSeconds, 3), ["cpu_s_total"] = Math.Round(TotalCpu.TotalSeconds, 3), ["actions"] = actions,
        };
    }

    /// <summary>Writes <see cref="ToJson"/> to <see cref="OutputPath"/> (atomically) when it is set.</summary>
    public void Write()
    {
        if (OutputPath is null) return;
        AtomicFile.WriteAllText(OutputPath, ToJson().ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
    }
}
