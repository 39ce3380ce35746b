// The search viewer: a search as versioned JSON (schema/search-tree.v1.schema.json) and as one HTML page.
export {
  SEARCH_TREE_FORMAT,
  SEARCH_TREE_SCHEMA,
  SEARCH_TREE_VERSION,
  searchJsonText,
  serializeSearch,
  type SearchNodeFate,
  type SearchTreeCandidate,
  type SearchTreeJson,
  type SearchTreeNode,
  type SearchTreeOptions,
  type SearchTreeVote,
  type SerializeOptions,
} from './serialize.js';
export { searchHtml } from './html.js';
