using Strix.Runtime;
using Strix.Tasks;
using Strix.Engine;
using Strix.Engine.Optim;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Strix.Tests.Engine;

/// <summary>A batch of 2-D points and their class labels.</summary>
public sealed class PointBatch : IDeviceBatch<PointBatch>, IDisposable
{
    public PointBatch(Tensor x, Tensor y) { X = x; Y = y; }
    public Tensor X { get; }
    public Tensor Y { get; }
    public PointBatch To(Device device) => new(X.to(device), Y.to(device));
    public void Dispose() { X.Dispose(); Y.Dispose(); }
}

/// <summary>Linearly separable 2-D data: class 1 when x0 + 0.5·x1 &gt; 0.1, shuffled per (seed, epoch).</summary>
public sealed class PointData : IBatchSource<PointBatch>
{
    readonly float[,] _x;
    readonly long[] _y;
    readonly int _batch;
    readonly long _seed;

    public PointData(int n, int batch, long seed = 7, bool shuffle = true)
    {
        var r = new StrixRandom(seed);
        _x = new float[n, 2];
        _y = new long[n];
        for (int i = 0; i < n; i++)
        {
            float a = (float)r.Uniform(-1, 1), b = (float)r.Uniform(-1, 1);
            _x[i, 0] = a; _x[i, 1] = b;
            _y[i] = a + 0.5f * b > 0.1f ? 1 : 0;
        }
        _batch = batch;
        _seed = seed;
        Shuffle = shuffle;
        EpochsRequested = new List<int>();
    }

    public bool Shuffle { get; }
    public List<int> EpochsRequested { get; }
    public int Count => (_y.Length + _batch - 1) / _batch;

    public IEnumerable<PointBatch> GetEpoch(int epoch)
    {
        EpochsRequested.Add(epoch);
        var idx = Enumerable.Range(0, _y.Length).ToList();
        if (Shuffle) new StrixRandom(_seed * 1000 + epoch).Shuffle(idx);
        for (int s = 0; s < idx.Count; s += _batch)
        {
            var part = idx.Skip(s).Take(_batch).ToList();
            var xs = new float[part.Count * 2];
            var ys = new long[part.Count];
            for (int k = 0; k < part.Count; k++) { xs[2 * k] = _x[part[k], 0]; xs[2 * k + 1] = _x[part[k], 1]; ys[k] = _y[part[k]]; }
            yield return new PointBatch(tensor(xs, new long[] { part.Count, 2 }), tensor(ys));
        }
    }
}

/// <summary>A small MLP classifier (with dropout, so torch's RNG matters) trained with cross-entropy.</summary>
public class PointClassifier : StrixModule<PointBatch>
{
    public PointClassifier(string optimizer = "sgd", double lr = 0.1, double momentum = 0.9, int hidden = 16, double dropout = 0.1)
        : base(Sequential(("0", Linear(2, hidden)), ("1", ReLU()), ("2", Dropout(dropout)), ("3", Linear(hidden, 2))))
    {
        OptimizerName = optimizer;
        Lr = lr;
        Momentum = momentum;
    }

    public string OptimizerName { get; }
    public double Lr { get; }
    public double Momentum { get; }
    long _correct, _seen;

    public override OptimizerConfig ConfigureOptimizers()
    {
        var groups = YoloOptimizer.Groups(Model, Lr, Momentum, 5e-4);
        var opt = ParameterGroups.Create(OptimizerName, groups);
        return new OptimizerConfig(opt, new LambdaLr(opt, (e, n) => LrLambdas.Linear(e, n, 0.1)));
    }

    protected Tensor Logits(Tensor x) => ((Module<Tensor, Tensor>)Model).call(x);

    public override Tensor TrainingStep(PointBatch batch, int batchIdx)
    {
        var loss = functional.cross_entropy(Logits(batch.X), batch.Y);
        Log("train/loss", loss, progBar: true);
        return loss;
    }

    public override void OnValidationEpochStart() { _correct = 0; _seen = 0; }

    public override void ValidationStep(PointBatch batch, int batchIdx)
    {
        var logits = Logits(batch.X);
        Log("val/loss", functional.cross_entropy(logits, batch.Y));
        _correct += logits.argmax(1).eq(batch.Y).sum().item<long>();
        _seen += batch.Y.shape[0];
    }

    public override void OnValidationEpochEnd()
    {
        double acc = (double)_correct / Math.Max(1, _seen);
        Log("metrics/accuracy", acc);
        Log("fitness", acc);
    }
}

public static class EngineTest
{
    /// <summary>A trainer for tests: quiet, no signal handling, logs captured.</summary>
    public static Trainer Trainer(TrainerOptions options, IEnumerable<Callback>? callbacks = null, IEnumerable<Strix.Engine.Loggers.TrainingLogger>? loggers = null) =>
        new(options with { HandleSignals = false, Log = options.Log ?? TextWriter.Null }, callbacks, loggers);

    /// <summary>Concatenated copy of every state-dict tensor, for bitwise comparisons.</summary>
    public static Dictionary<string, byte[]> Bytes(Module model) =>
        model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().cpu().contiguous().bytes.ToArray());

    public static void AssertBitwiseEqual(Dictionary<string, byte[]> a, Dictionary<string, byte[]> b)
    {
        Assert.Equal(a.Keys.OrderBy(k => k), b.Keys.OrderBy(k => k));
        foreach (var k in a.Keys) Assert.True(a[k].AsSpan().SequenceEqual(b[k]), $"tensor '{k}' differs");
    }
}
