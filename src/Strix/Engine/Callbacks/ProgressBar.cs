using System.Diagnostics;
using System.Globalization;
using System.Text;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Strix.Engine.Callbacks;

/// <summary>
/// Ultralytics-style progress: a header naming the progress-bar metrics, then one bar per epoch
/// ("  3/100   1.234   2.345   1.456      32     640 ━━━━━━━━  12/40 0:00:07 2.1it/s") with the running
/// mean of each loss and the last value of per-batch items such as Instances and Size, and a bar for
/// validation. Live bars use Spectre.Console on an interactive terminal; when output is redirected or
/// not a terminal it prints plain lines instead (every <c>plainInterval</c> and at the end of each bar).
/// </summary>
public sealed class ProgressBar : Callback, Strategies.IRankZeroOnly
{
    readonly IAnsiConsole _console;
    readonly TextWriter _plain;
    readonly TimeSpan _plainInterval;
    readonly Stopwatch _sinceLine = new();
    Bar? _bar;
    string _header = "";
    int _total, _done, _start;
    string _label = "";
    Stopwatch _barClock = new();

    /// <param name="console">Spectre console for live bars (default <see cref="AnsiConsole.Console"/>).</param>
    /// <param name="interactive">Force live bars on/off; default: live only on an interactive terminal with stdout not redirected.</param>
    /// <param name="plain">Writer for plain lines (default Console.Out).</param>
    /// <param name="plainInterval">Minimum time between plain lines within one bar (default 10 s).</param>
    public ProgressBar(IAnsiConsole? console = null, bool? interactive = null, TextWriter? plain = null, TimeSpan? plainInterval = null)
    {
        _console = console ?? AnsiConsole.Console;
        Interactive = interactive ?? (_console.Profile.Capabilities.Interactive && !Console.IsOutputRedirected);
        _plain = plain ?? Console.Out;
        _plainInterval = plainInterval ?? TimeSpan.FromSeconds(10);
    }

    public bool Interactive { get; }

    public override void OnTrainEpochStart(Trainer trainer, StrixModule module)
    {
        _header = "";
        Open(trainer.BatchesPerEpoch, trainer.IsMidEpoch ? trainer.BatchIdx + 1 : 0, EpochLabel(trainer));
    }

    public override void OnTrainBatchEnd(Trainer trainer, StrixModule module, double loss, object? batch, int batchIdx)
    {
        var metrics = trainer.ProgressBarMetrics;
        Advance(Header("Epoch", metrics), Row(EpochLabel(trainer), metrics), batchIdx + 1);
    }

    public override void OnValidationStart(Trainer trainer, StrixModule module)
    {
        Close();
        _header = "";
        Open(trainer.ValBatches, 0, "validating");
    }

    public override void OnValidationBatchEnd(Trainer trainer, StrixModule module, object? batch, int batchIdx)
    {
        var metrics = trainer.ProgressBarMetrics;
        Advance(Header("", metrics), Row("validating", metrics), batchIdx + 1);
    }

    public override void OnValidationEnd(Trainer trainer, StrixModule module) => Close();
    public override void OnTrainEpochEnd(Trainer trainer, StrixModule module) => Close();
    public override void OnTrainEnd(Trainer trainer, StrixModule module) => Close();
    public override void Teardown(Trainer trainer, StrixModule module, string stage) => Close();

    static string EpochLabel(Trainer t) => $"{t.Epoch + 1}/{t.MaxEpochs}";

    /// <summary>The header line: "Epoch" then each metric's last path segment, right-aligned in 11 columns.</summary>
    public static string Header(string label, IReadOnlyList<KeyValuePair<string, double>> metrics)
    {
        var sb = new StringBuilder();
        sb.Append(label.PadLeft(11));
        foreach (var (k, _) in metrics) sb.Append(ShortName(k).PadLeft(11));
        return sb.ToString();
    }

    /// <summary>One row: the label then each value (4 significant digits; integers as integers).</summary>
    public static string Row(string label, IReadOnlyList<KeyValuePair<string, double>> metrics)
    {
        var sb = new StringBuilder();
        sb.Append(label.PadLeft(11));
        foreach (var (_, v) in metrics) sb.Append(FormatValue(v).PadLeft(11));
        return sb.ToString();
    }

    static string ShortName(string key) { int i = key.LastIndexOf('/'); return i >= 0 ? key[(i + 1)..] : key; }

    static string FormatValue(double v) =>
        v == Math.Floor(v) && Math.Abs(v) < 1e7 ? v.ToString("0", CultureInfo.InvariantCulture) : v.ToString("G4", CultureInfo.InvariantCulture);

    void Open(int total, int start, string label)
    {
        Close();
        _total = total;
        _done = start;
        _start = start;
        _label = label;
        _barClock = Stopwatch.StartNew();
        _sinceLine.Restart();
    }

    void Advance(string header, string description, int done)
    {
        _done = done;
        bool headerChanged = header != _header && header.Trim().Length > 0;
        if (headerChanged) _header = header;
        if (Interactive && _total > 0)
        {
            if (_bar is null)
            {
                // The live bar starts once the first values (and so the header) are known.
                if (_header.Length > 0) _console.WriteLine(_header);
                _bar = Bar.Start(_console, _label.PadLeft(11), _total, _start);
            }
            _bar.Update(description, done);
            return;
        }
        if (headerChanged) _plain.WriteLine(header);
        if (_sinceLine.Elapsed >= _plainInterval || done >= _total)
        {
            _plain.WriteLine($"{description}  {Tail()}");
            _sinceLine.Restart();
        }
    }

    string Tail()
    {
        double s = _barClock.Elapsed.TotalSeconds;
        double rate = s > 0 ? _done / s : 0;
        int pct = _total > 0 ? (int)(100.0 * _done / _total) : 100;
        return string.Create(CultureInfo.InvariantCulture, $"{pct,3}% {_done}/{_total} [{_barClock.Elapsed:mm\\:ss}, {rate:0.00}it/s]");
    }

    void Close()
    {
        _bar?.Dispose();
        _bar = null;
    }

    /// <summary>A Spectre live progress display running on its own task for the length of one bar.</summary>
    sealed class Bar : IDisposable
    {
        readonly TaskCompletionSource _finish = new(TaskCreationOptions.RunContinuationsAsynchronously);
        readonly ManualResetEventSlim _ready = new();
        ProgressTask? _task;
        ProgressContext? _ctx;
        Task? _run;

        public static Bar Start(IAnsiConsole console, string label, int total, int start)
        {
            var bar = new Bar();
            var progress = console.Progress().AutoClear(false).HideCompleted(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(),
                    new CountColumn(), new ElapsedTimeColumn(), new RateColumn());
            bar._run = Task.Run(() => progress.StartAsync(async ctx =>
            {
                bar._ctx = ctx;
                bar._task = ctx.AddTask(Markup.Escape(label), autoStart: true, maxValue: total);
                bar._task.Value = start;
                bar._ready.Set();
                await bar._finish.Task;
                ctx.Refresh();
            }));
            if (!bar._ready.Wait(TimeSpan.FromSeconds(10)) && bar._run.IsFaulted) bar._run.GetAwaiter().GetResult();
            return bar;
        }

        public void Update(string description, int done)
        {
            if (_task is null) return;
            _task.Description = Markup.Escape(description);
            _task.Value = done;
        }

        public void Dispose()
        {
            if (_task is not null) _task.StopTask();
            _finish.TrySetResult();
            try { _run?.Wait(TimeSpan.FromSeconds(10)); } catch (AggregateException) { }
            _ready.Dispose();
        }
    }

    sealed class CountColumn : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Text(string.Create(CultureInfo.InvariantCulture, $"{task.Value:0}/{task.MaxValue:0}"));
    }

    sealed class RateColumn : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime)
        {
            double? rate = task.Speed;
            if (rate is null && task.ElapsedTime is TimeSpan e && e.TotalSeconds > 0) rate = task.Value / e.TotalSeconds;
            return new Text(rate is double r ? string.Create(CultureInfo.InvariantCulture, $"{r:0.00}it/s") : "  ?it/s");
        }
    }
}
