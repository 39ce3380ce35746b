export { RewardModel, loadRewardModel, LOAD_REWARD_MODEL_OPTION_KEYS, type Conversation, type LoadRewardModelOptions, type RewardModelInfo } from './reward-model.js';
export { chooseOrmHead, ormReward, type OrmHead } from './head.js';
export { OrmFormatError } from './errors.js';
