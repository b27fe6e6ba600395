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

    sealed record Bucket(Parameter[] Params, long[] Offsets, long Elements, Tensor Flat);

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
        var offsets = new long[ps.Count];
        long n = 0;
        for (int i = 0; i < ps.Count; i++) { offsets[i] = n; n += ps[i].numel(); }
        // Layout: [grad 0 | grad 1 | … | presence flag per parameter].
        var flat = zeros(new[] { n + ps.Count }, ps[0].dtype, ps[0].device);
        _buckets.Add(new Bucket(ps.ToArray(), offsets, n, flat));
    }

    /// <summary>All-reduces and averages every parameter's gradient in place (collective: every rank must call it).</summary>
    public void Reduce()
    {
        if (_group.WorldSize == 1) return;
        using var _ = no_grad();
        foreach (var b in _buckets)
        {
            using var scope = NewDisposeScope();
            for (int i = 0; i < b.Params.Length; i++)
            {
                var p = b.Params[i];
                var slot = b.Flat.narrow(0, b.Offsets[i], p.numel());
                var flag = b.Flat.narrow(0, b.Elements + i, 1);
                var g = p.grad;
                if (g is null) { slot.zero_(); flag.fill_(0); }
                else { slot.copy_(g.reshape(-1)); flag.fill_(1); }
            }
            _group.AllReduceSum(b.Flat);
            b.Flat.div_(_group.WorldSize);
            for (int i = 0; i < b.Params.Length; i++)
            {
                var p = b.Params[i];
                var slot = b.Flat.narrow(0, b.Offsets[i], p.numel()).view(p.shape);
                var g = p.grad;
                if (g is not null) g.copy_(slot);
                else if (b.Flat[b.Elements + i].ToDouble() > 0) p.grad = slot.clone().MoveToOuterDisposeScope();
            }
        }
    }

    public void Dispose()
    {
        foreach (var b in _buckets) b.Flat.Dispose();
        _buckets.Clear();
    }
}
