#include "queue/batch_split.h"

#include <algorithm>
#include <iterator>

#include "queue/batch_codec.h"

namespace metricsd::queue {
namespace {

MetricFamily EmptyLike(const MetricFamily& family) {
  MetricFamily copy;
  copy.name = family.name;
  copy.help = family.help;
  copy.type = family.type;
  return copy;
}

}  // namespace

std::vector<Batch> ChunkBatch(Batch batch, std::size_t max_samples) {
  std::vector<Batch> pieces;
  if (max_samples == 0 || CountSamples(batch) <= max_samples) {
    std::erase_if(batch, [](const MetricFamily& f) { return f.samples.empty(); });
    pieces.push_back(std::move(batch));
    return pieces;
  }
  Batch current;
  std::size_t in_current = 0;
  for (MetricFamily& family : batch) {
    std::size_t next = 0;
    while (next < family.samples.size()) {
      const std::size_t take = std::min(max_samples - in_current, family.samples.size() - next);
      MetricFamily part = EmptyLike(family);
      part.samples.assign(std::make_move_iterator(family.samples.begin() + next),
                          std::make_move_iterator(family.samples.begin() + next + take));
      current.push_back(std::move(part));
      next += take;
      in_current += take;
      if (in_current == max_samples) {
        pieces.push_back(std::move(current));
        current.clear();
        in_current = 0;
      }
    }
  }
  if (in_current > 0) {
    pieces.push_back(std::move(current));
  }
  return pieces;
}

std::pair<Batch, Batch> SplitBatch(Batch batch) {
  const std::size_t total = CountSamples(batch);
  if (total < 2) {
    return {std::move(batch), Batch{}};
  }
  auto pieces = ChunkBatch(std::move(batch), (total + 1) / 2);
  if (pieces.size() == 1) {
    return {std::move(pieces[0]), Batch{}};
  }
  return {std::move(pieces[0]), std::move(pieces[1])};
}

}  // namespace metricsd::queue
