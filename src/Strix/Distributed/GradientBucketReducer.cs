using Strix.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Strix.Distributed;

/// <summary>
/// Averages gradients over ranks the way DDP does: parameters are packed into flat buckets of about
/// <see cref="DefaultBucketBytes"/> (25 MB, PyTorch's default), each bucket is one all-reduce, then
/// divided by the world size and copied back into <c>.grad</c>. Call <see cref="Reduce"/> after
/// <c>backward()</c> and before gradient clipping and the optimizer step, on every rank, every step.
/// A parameter whose gradient is missing on some ranks counts as zero there; one with no gradient on
/// any rank keeps <c>grad == null</c> (one presence flag per parameter travels in the bucket), so
/// every rank ends with identical gradients and the optimizer sees what single-process training sees.
/// </summary>
public sealed class GradientBucketReducer : IDisposable
{
    public const long DefaultBucketBytes = 25L * 1024 * 1024;

    /// <summary>Sizes: each parameter's element count, then the number of presence flags (how the flat bucket splits).</summary>
    sealed record Bucket(Parameter[] Params, long[] Sizes, long Elements);

    readonly IProcessGroup _group;
    readonly List<Bucket> _buckets = new();

    public int BucketCount => _buckets.Count;
    /// <summary>Gradient elements reduced per step (without the presence flags).</summary>
    public long TotalElements => _buckets.Sum(b => b.Elements);

    public GradientBucketReducer(IProcessGroup group, Module module, long bucketBytes = DefaultBucketBytes)
        : this(group, module.parameters(), bucketBytes) { }

    public GradientBucketReducer(IProcessGroup group, IEnumerable<Parameter> parameters, long bucketBytes = DefaultBucketBytes)
    {
        if (bucketBytes <= 0) throw new ArgumentOutOfRangeException(nameof(bucketBytes));
        _group = group;
        var trainable = parameters.Where(p => p.requires_grad).ToList();
        // Parameters of one bucket share dtype and device (one flat tensor each).
        foreach (var kind in trainable.GroupBy(p => (p.dtype, p.device.type, p.device.index)))
        {
            var current = new List<Parameter>();
            long bytes = 0;
            foreach (var p in kind)
            {
                long pb = p.numel() * p.element_size();
                if (current.Count > 0 && bytes + pb > bucketBytes) { AddBucket(current); current = new(); bytes = 0; }
                current.Add(p);
                bytes += pb;
            }
            if (current.Count > 0) AddBucket(current);
        }
    }

    void AddBucket(List<Parameter> ps)
    {
        var sizes = ps.Select(p => p.numel()).Append(ps.Count).ToArray();
        long n = sizes.Take(ps.Count).Sum();
        // Flat layout: [grad 0 | grad 1 | … | presence flag per parameter].
        _buckets.Add(new Bucket(ps.ToArray(), sizes, n));
    }

    /// <summary>All-reduces and averages every parameter's gradient in place (collective: every rank must call it).</summary>
    public void Reduce()
    {
        if (_group.WorldSize == 1) return;
        using var _ = no_grad();
        foreach (var b in _buckets)
        {
            using var scope = NewDisposeScope();
            int n = b.Params.Length;
            var grads = new Tensor?[n];
            var flags = new float[n];
            var pieces = new List<Tensor>(n + 1);
            for (int i = 0; i < n; i++)
            {
                var p = b.Params[i];
                grads[i] = p.grad;
                flags[i] = grads[i] is null ? 0 : 1;
                pieces.Add(grads[i] is { } g ? g.reshape(-1) : zeros(p.numel(), p.dtype, p.device));
            }
            var first = b.Params[0];
            pieces.Add(tensor(flags).to(first.dtype, first.device));
            var flat = cat(pieces, 0);                   // pack: one native call
            _group.AllReduceSum(flat);
            using (var worldSize = _group.WorldSize.ToScalar()) flat.div_(worldSize);
            var slots = flat.split(b.Sizes);             // unpack: views of the reduced bucket
            float[]? reducedFlags = null;
            for (int i = 0; i < n; i++)
            {
                var p = b.Params[i];
                if (grads[i] is { } g) { g.copy_(slots[i].view(p.shape)); continue; }
                reducedFlags ??= slots[n].to(ScalarType.Float32, CPU).data<float>().ToArray();
                if (reducedFlags[i] > 0) p.grad = slots[i].view(p.shape).clone().MoveToOuterDisposeScope();
            }
        }
    }

    public void Dispose() => _buckets.Clear();
}
