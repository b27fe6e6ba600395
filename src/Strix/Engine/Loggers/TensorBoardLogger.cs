using Strix.Runtime;
using System.Globalization;

namespace Strix.Engine.Loggers;

/// <summary>
/// Writes TensorBoard event files (<c>events.out.tfevents.{time}.{host}.{pid}.{n}</c>) with scalar
/// summaries: each epoch's metrics at step = epoch (1-based, as Ultralytics' TensorBoard callback does)
/// and on_step values at the global step. Every record is flushed, so TensorBoard can follow a live run.
/// </summary>
public sealed class TensorBoardLogger : TrainingLogger
{
    static int _counter;
    readonly string _dir;
    FileStream? _stream;

    public TensorBoardLogger(string logDir) { _dir = Path.GetFullPath(logDir); }

    /// <summary>The event file (created on first use).</summary>
    public string? FilePath { get; private set; }

    FileStream Stream()
    {
        if (_stream is not null) return _stream;
        Directory.CreateDirectory(_dir);
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var name = string.Create(CultureInfo.InvariantCulture,
            $"events.out.tfevents.{now:D10}.{Environment.MachineName}.{Environment.ProcessId}.{Interlocked.Increment(ref _counter)}");
        FilePath = Path.Combine(_dir, name);
        _stream = new FileStream(FilePath, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
        Append(new TensorBoardEvent(WallTime(), 0, "brain.Event:2", Array.Empty<KeyValuePair<string, float>>()));
        return _stream;
    }

    static double WallTime() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;

    void Append(TensorBoardEvent e)
    {
        var s = Stream();
        TfRecord.Write(s, e.ToBytes());
        s.Flush();
    }

    public override void LogEpoch(int epoch, IReadOnlyList<KeyValuePair<string, double>> metrics) => Scalars(epoch, metrics);

    public override void LogStep(long step, IReadOnlyList<KeyValuePair<string, double>> metrics) => Scalars(step, metrics);

    void Scalars(long step, IReadOnlyList<KeyValuePair<string, double>> metrics)
    {
        if (metrics.Count == 0) return;
        Append(new TensorBoardEvent(WallTime(), step, null, metrics.Select(kv => KeyValuePair.Create(kv.Key, (float)kv.Value)).ToList()));
    }

    public override void Finish()
    {
        _stream?.Dispose();
        _stream = null;
    }

    /// <summary>Reads every scalar (tag, step, value) from an event file, verifying the record CRCs.</summary>
    public static List<(string Tag, long Step, float Value)> ReadScalars(string path)
    {
        using var fs = File.OpenRead(path);
        var result = new List<(string, long, float)>();
        foreach (var rec in TfRecord.ReadAll(fs, path))
        {
            var e = TensorBoardEvent.Parse(rec);
            foreach (var (tag, v) in e.Scalars) result.Add((tag, e.Step, v));
        }
        return result;
    }
}
